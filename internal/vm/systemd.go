package vm

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The user session: the host's systemd, run in the VM as `systemd --user`
// for uid 1000 the way a login starts it (testscripts/vm/user-session),
// with the session bus it runs (dbus.socket and dbus.service, as Debian's
// dbus-user-session ships them), so that sbx's D-Bus path to a delegated
// scope (cgdelegate.EnterScope) meets a real user manager. They are the
// only dynamically linked programs in the VM: they come with their
// loader and libraries, at the paths they have on the host.
const (
	// SystemdBinary is the host's systemd (package systemd), which runs
	// as the user manager with --user.
	SystemdBinary = "/lib/systemd/systemd"
	// DbusDaemon is the host's message bus (package dbus-daemon).
	DbusDaemon = "/usr/bin/dbus-daemon"
	// dbusSessionConf is the session bus's configuration (package
	// dbus-session-bus-common, which dbus-daemon depends on).
	dbusSessionConf = "/usr/share/dbus-1/session.conf"
	// userUnitDir holds the user manager's units (package systemd).
	userUnitDir = "/usr/lib/systemd/user"
)

// sessionPrograms are copied with their libraries: systemd and
// dbus-daemon, and from systemd's package busctl and systemctl, which
// init and the scripts use to ask the user manager what it has, and
// systemd-run, with which the runner puts a script's shell in a scope of
// the user manager's.
var sessionPrograms = []string{SystemdBinary, DbusDaemon, "/usr/bin/busctl", "/usr/bin/systemctl", "/usr/bin/systemd-run"}

// sessionConfig are the configuration files copied as they are, when the
// host has them: systemd's user.conf, the session bus's session.conf and
// what it includes (/etc/dbus-1/session.conf, session.d in both places,
// session-local.conf; all but session.conf itself are optional to it).
var sessionConfig = []string{
	"/etc/systemd/user.conf",
	dbusSessionConf,
	"/etc/dbus-1/session.conf",
	"/usr/share/dbus-1/session.d",
	"/etc/dbus-1/session.d",
	"/etc/dbus-1/session-local.conf",
}

// machineID is the VM's /etc/machine-id, fixed: systemd and libdbus read
// it, and the VM boots the same every time.
const machineID = "5ab0c0ffee5ab0c0ffee5ab0c0ffee00\n"

// libDirs are where the dynamic loader looks for a library that no
// RUNPATH names, in its order: Debian's and Ubuntu's glibc search the
// multiarch directories, then /lib and /usr/lib ("ld.so --help" lists
// them as the system search path). The VM has no /etc/ld.so.cache, so a
// library is put where the loader looks without one: at the path it was
// found at here.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"}

// missingSession says what the host lacks for the VM's user session.
func missingSession() error {
	const fix = "apt-get install systemd dbus-daemon, as .ci/run does"
	var missing []string
	for _, p := range append(append([]string{}, sessionPrograms...), dbusSessionConf, filepath.Join(userUnitDir, "default.target")) {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no %s: the VM's systemd --user and session bus come from the host (%s)", strings.Join(missing, ", "), fix)
	}
	return nil
}

// addSession adds the user session to the initramfs: the programs, their
// loader and libraries, the user manager's targets and slices, the units
// of testscripts/vm/user-units (the session bus) in /etc/systemd/user,
// the configuration, and /etc/machine-id.
func addSession(c *cpioWriter, scripts string) error {
	if err := missingSession(); err != nil {
		return err
	}
	files, err := sharedObjects(sessionPrograms)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := addHostFile(c, f); err != nil {
			return err
		}
	}
	units, err := userUnits()
	if err != nil {
		return err
	}
	for _, u := range units {
		if err := addHostFile(c, u); err != nil {
			return err
		}
	}
	if err := addOwnUnits(c, filepath.Join(scripts, "user-units")); err != nil {
		return err
	}
	for _, p := range sessionConfig {
		if err := addHostTree(c, p); err != nil {
			return err
		}
	}
	c.File("etc/machine-id", 0o444, []byte(machineID))
	return nil
}

// userUnits are the user manager's targets and slices (default.target,
// basic.target, app.slice, ...): the skeleton of its unit tree, which is
// all systemd's own package puts there. The services and sockets beside
// them (other packages', and dbus-user-session's, which the session bus
// units of testscripts/vm/user-units stand for) would start programs the
// VM does not have; the .wants directories link to those.
func userUnits() ([]string, error) {
	entries, err := os.ReadDir(userUnitDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, ".target") || strings.HasSuffix(n, ".slice")) {
			out = append(out, filepath.Join(userUnitDir, n))
		}
	}
	return out, nil
}

// addOwnUnits puts the units in dir into /etc/systemd/user, where an
// administrator's units go, and links each that has a WantedBy= line
// into that target's .wants, as systemctl enable would.
func addOwnUnits(c *cpioWriter, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("the VM's user units: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		c.File("etc/systemd/user/"+e.Name(), 0o644, data)
		for _, line := range strings.Split(string(data), "\n") {
			if target, ok := strings.CutPrefix(strings.TrimSpace(line), "WantedBy="); ok {
				c.Symlink("etc/systemd/user/"+target+".wants/"+e.Name(), "../"+e.Name())
			}
		}
	}
	return nil
}

// addHostTree adds a host file, or a directory with the files in it, at
// the same path; one the host does not have is left out.
func addHostTree(c *cpioWriter, p string) error {
	return filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && q == p:
			return nil
		case err != nil:
			return err
		case d.IsDir():
			c.Dir(q, 0o755)
			return nil
		}
		return addHostFile(c, q)
	})
}

// addHostFile adds a host file at the same path, its content read through
// any symbolic links, executable or not as it is here.
func addHostFile(c *cpioWriter, p string) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	perm := fs.FileMode(0o644)
	if st.Mode()&0o111 != 0 {
		perm = 0o755
	}
	c.File(p, perm, data)
	return nil
}

// sharedObjects lists the programs, their dynamic loader (PT_INTERP) and
// every library they load, directly or not, as host paths, sorted.
//
// The libraries are found the way the loader finds them, from the ELF
// files themselves (debug/elf) rather than from ldd: ldd runs the
// programs' loader on this host, which would work too, but its output is
// text to parse, and reading DT_NEEDED, DT_RUNPATH and DT_RPATH is as
// short and needs nothing but the files. A library is looked for in the
// RUNPATH of the object that needs it (else its RPATH; $ORIGIN expanded),
// then in libDirs; one already found by that name is the one loaded
// (libsystemd-core-252.so needs libsystemd-shared-252.so without a
// RUNPATH: the loader has it from systemd's). Libraries opened with
// dlopen(3) are not in DT_NEEDED: systemd opens some that way for
// features the user manager does not use here (cryptsetup, TPM2,
// FIDO2...), and glibc 2.34 and later has the "files" NSS module built in.
func sharedObjects(programs []string) ([]string, error) {
	found := map[string]string{} // soname → host path
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	queue := append([]string{}, programs...)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		add(p)
		f, err := elf.Open(p)
		if err != nil {
			return nil, fmt.Errorf("the VM's user session: %w", err)
		}
		interp, err := interpreter(f)
		if err == nil && interp != "" {
			// libc needs the loader by its soname: the loader is
			// that already.
			add(interp)
			found[filepath.Base(interp)] = interp
		}
		needed, err2 := f.ImportedLibraries()
		search := searchPath(f, filepath.Dir(p))
		machine := f.Machine
		f.Close()
		if err == nil {
			err = err2
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, lib := range needed {
			if _, ok := found[lib]; ok {
				continue
			}
			path, err := findLib(lib, search, machine)
			if err != nil {
				return nil, fmt.Errorf("%s, needed by %s: %w", lib, p, err)
			}
			found[lib] = path
			queue = append(queue, path)
		}
	}
	sort.Strings(out)
	return out, nil
}

// interpreter is the program's PT_INTERP, "" for a library.
func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", err
			}
			return strings.TrimRight(string(b), "\x00"), nil
		}
	}
	return "", nil
}

// searchPath is where the loader looks for what f needs: its RUNPATH, or
// without one its RPATH, then libDirs.
func searchPath(f *elf.File, origin string) []string {
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
		if len(dirs) > 0 {
			break
		}
	}
	return append(dirs, libDirs...)
}

// findLib is the first file named lib in dirs that is an ELF object for
// machine (the loader skips another architecture's).
func findLib(lib string, dirs []string, machine elf.Machine) (string, error) {
	if strings.Contains(lib, "/") {
		return lib, nil
	}
	for _, d := range dirs {
		p := filepath.Join(d, lib)
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		ok := f.Machine == machine
		f.Close()
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in %s", strings.Join(dirs, ":"))
}
