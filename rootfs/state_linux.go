package rootfs

import (
	"github.com/sbx-sandbox/sbx/slirp/tap"

	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// StateDirEnv names the variable that overrides where run state lives.
const StateDirEnv = "SBX_STATE_DIR"

// StateBase picks the caller's private directory for run state: a directory
// of its own under /var/tmp (disk-backed on every mainstream distribution,
// unlike /tmp or $XDG_RUNTIME_DIR, which are often small tmpfs), else the
// user's cache directory.
//
// SBX_STATE_DIR, when set to an absolute path, is used instead: for hosts
// whose /var/tmp is small, and for tests that need a base of their own.
func StateBase(uid int, home string) (string, error) {
	if dir := os.Getenv(StateDirEnv); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("%s=%s: must be an absolute path", StateDirEnv, dir)
		}
		if err := privateDir(dir, uid); err != nil {
			return "", fmt.Errorf("%s=%s: %w", StateDirEnv, dir, err)
		}
		return dir, nil
	}
	var errs []string
	candidates := []string{filepath.Join("/var/tmp", "sbx-"+strconv.Itoa(uid))}
	if c := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(c) {
		candidates = append(candidates, filepath.Join(c, "sbx"))
	} else if home != "" && home != "/" {
		candidates = append(candidates, filepath.Join(home, ".cache", "sbx"))
	}
	for _, c := range candidates {
		if err := privateDir(c, uid); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		var st unix.Statfs_t
		if unix.Statfs(c, &st) == nil && (st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC) && len(candidates) > 1 && c == candidates[0] {
			errs = append(errs, c+" is on a tmpfs")
			continue
		}
		return c, nil
	}
	return "", fmt.Errorf("no private state directory: %s; fix: mkdir -m 0700 %s", strings.Join(errs, "; "), candidates[0])
}

// privateDir makes sure dir exists, is a real directory owned by uid and
// closed to others; another user must not be able to prepare it for us.
func privateDir(dir string, uid int) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("%s belongs to uid %d, not %d", dir, st.Uid, uid)
	}
	if st.Mode&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// NewState creates one run's state directory under base, or in keep (which
// must be new or empty, and not a symbolic link), and locks it.
func NewState(base, keep string) (*State, error) {
	if keep != "" {
		k, err := OpenKeep(keep)
		if err != nil {
			return nil, err
		}
		return NewKeepState(k)
	}
	// Made under a temporary name and renamed once locked, so a concurrent
	// run's StaleRuns never sees a run directory whose run is alive but
	// whose lock is not held yet.
	dir, err := os.MkdirTemp(base, "new-")
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	lock, err := layout(fd, dir)
	unix.Close(fd)
	if err != nil {
		RemoveTree(dir)
		return nil, err
	}
	run := filepath.Join(base, "run-"+strings.TrimPrefix(filepath.Base(dir), "new-"))
	if err := os.Rename(dir, run); err != nil {
		lock.Close()
		RemoveTree(dir)
		return nil, err
	}
	return &State{Dir: StateDir(run), Lock: lock}, nil
}

// NewKeepState makes the run's state in an opened --keep DIR, which it
// then owns.
func NewKeepState(k *KeepDir) (*State, error) {
	lock, err := layout(k.fd, k.path)
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("--keep %s: %w", k.path, err)
	}
	return &State{Dir: StateDir(k.path), Lock: lock, Keep: k}, nil
}

// layout makes the state's directories and its lock in the directory fd
// (at path, for messages) and takes the lock.
func layout(fd int, path string) (*os.File, error) {
	for _, d := range []string{"root", "upper", "work", "files", "var-tmp"} {
		if err := unix.Mkdirat(fd, d, 0o700); err != nil {
			return nil, fmt.Errorf("mkdir %s: %w", filepath.Join(path, d), err)
		}
	}
	// /var/tmp inside: world-writable and sticky, as everywhere.
	vt, err := unix.Openat(fd, "var-tmp", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	err = unix.Fchmod(vt, 0o777|unix.S_ISVTX)
	unix.Close(vt)
	if err != nil {
		return nil, err
	}
	lfd, err := unix.Openat(fd, "lock", unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Join(path, "lock"), err)
	}
	lock := os.NewFile(uintptr(lfd), filepath.Join(path, "lock"))
	if err := unix.Flock(lfd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	return lock, nil
}

// WriteFiles writes the files the plan binds in: /etc/hosts naming the
// hostname, /etc/hostname, and the empty file that hides secrets.
func (s StateDir) WriteFiles(hostname string) error {
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost %[1]s\n::1\tlocalhost ip6-localhost ip6-loopback %[1]s\n", hostname)
	if err := writeFileMode(s.Hosts(), []byte(hosts), 0o644); err != nil {
		return err
	}
	if err := writeFileMode(s.Hostname(), []byte(hostname+"\n"), 0o644); err != nil {
		return err
	}
	// Bound over /etc/resolv.conf with --net slirp, where the built-in
	// resolver is the only one the sandbox can reach.
	if err := writeFileMode(s.ResolvConf(), []byte("nameserver "+tap.DNSIP.String()+"\n"), 0o644); err != nil {
		return err
	}
	return writeFileMode(s.Empty(), nil, 0o444)
}

// writeFileMode writes a file with exactly mode, whatever the umask: these
// files are bound in for every user inside, and under umask 077 a 0600
// /etc/resolv.conf would leave a program that drops root (apt's _apt, a
// server's workers) without a resolver. A chmod is a journaled write, so
// only when the umask took bits away.
func writeFileMode(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if fi, serr := f.Stat(); err == nil && (serr != nil || fi.Mode().Perm() != mode) {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// MakeLayers creates each overlay's upper and work directory. The upper
// directory lends its mode to the overlay's root, so it copies the lower's.
func (s StateDir) MakeLayers(p *Plan) error {
	for _, l := range p.Layers {
		const kept = os.ModePerm | os.ModeSticky
		mode := os.FileMode(0o755)
		if fi, err := os.Stat(l.Lower); err == nil {
			mode = fi.Mode() & kept
		}
		// The overlay's root takes the upper root's mode. A chmod is a
		// journaled write, so only when the umask took bits away.
		if err := os.Mkdir(l.Upper, mode); err != nil {
			return err
		}
		if fi, err := os.Lstat(l.Upper); err != nil || fi.Mode()&kept != mode {
			if err := os.Chmod(l.Upper, mode); err != nil {
				return err
			}
		}
	}
	if p.HostFS != nil {
		if err := os.Mkdir(p.HostFS.Mount, 0o700); err != nil {
			return err
		}
	}
	ops := p.Ops
	if p.Root != nil {
		ops = append([]Op{*p.Root}, ops...)
	}
	for _, op := range ops {
		if op.Kind == OpOverlay {
			if err := os.Mkdir(op.Work, 0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// abandonedAfter is how old a half-made state directory ("new-") must be
// before another run takes it for the remains of a killed one.
const abandonedAfter = time.Hour

// StaleRuns lists run directories under base whose run is gone, left
// behind by a run that was killed or whose removal failed half-way: a
// run-* directory whose lock is free or missing (its live run holds its
// lock from before the directory got its name until the end), and a new-*
// one older than abandonedAfter whose lock is not held.
func StaleRuns(base string) []string {
	bfd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(bfd)
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var stale []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() {
			continue
		}
		switch {
		case strings.HasPrefix(name, "run-"):
		case strings.HasPrefix(name, "new-"):
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) <= abandonedAfter {
				continue
			}
		default:
			continue
		}
		if runGone(bfd, name) {
			stale = append(stale, filepath.Join(base, name))
		}
	}
	return stale
}

// runGone tells whether no live run holds the lock of the state directory
// name in base.
func runGone(base int, name string) bool {
	dir, err := unix.Openat(base, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(dir)
	lock, err := openLock(dir)
	if err == unix.ENOENT || err == unix.ELOOP {
		// No lock, or something no run ever made for one.
		return true
	}
	if err != nil {
		return false
	}
	defer unix.Close(lock)
	return unix.Flock(lock, unix.LOCK_EX|unix.LOCK_NB) == nil
}

// openLock opens the lock file in a state directory for flock only; a fifo
// planted there must not block.
func openLock(dir int) (int, error) {
	return unix.Openat(dir, "lock", unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
}

// RemoveState removes a state directory whose run is over, in an order no
// failure can defeat: everything but the lock first, then the lock, then
// the directory. A removal that fails half-way (files of subordinate ids)
// leaves the lock, so StaleRuns finds the directory again. The lock is held
// while removing, so two runs cleaning the same directory take turns; one
// that finds it gone has succeeded.
//
// The caller must have released its own lock on dir: flock is per open
// file, and RemoveState waits for it.
func RemoveState(dir string) error {
	dir = filepath.Clean(dir)
	parent, err := unix.Open(filepath.Dir(dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	defer unix.Close(parent)
	name := filepath.Base(dir)
	fd, err := openDir(parent, name)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	err = removeStateIn(fd)
	unix.Close(fd)
	if err == nil {
		err = ignoreENOENT(unix.Unlinkat(parent, name, unix.AT_REMOVEDIR))
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// RemoveStateIn empties the state directory fd in RemoveState's order, its
// lock last, holding that lock (when there is one) meanwhile. It is for a
// directory that must not be looked up by name again (--keep DIR, see
// KeepDir.Fd); the directory itself stays.
func RemoveStateIn(fd int) error {
	return removeStateIn(fd)
}

func removeStateIn(fd int) error {
	if lock, err := openLock(fd); err == nil {
		defer unix.Close(lock)
		for {
			err := unix.Flock(lock, unix.LOCK_EX)
			if err != unix.EINTR {
				break
			}
		}
	}
	names, err := dirNames(fd)
	if err != nil {
		return ignoreENOENT(err)
	}
	var first error
	for _, n := range names {
		if n == "lock" {
			continue
		}
		if err := RemoveTreeAt(fd, n); err != nil && first == nil {
			first = fmt.Errorf("%s: %w", n, err)
		}
	}
	if first != nil {
		return first
	}
	return RemoveTreeAt(fd, "lock")
}

// dirNames lists the directory fd from its start, without . and ..
func dirNames(fd int) ([]string, error) {
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return nil, err
	}
	buf := make([]byte, 8<<10)
	var names []string
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		for b := buf[:n]; len(b) > 0; {
			name, _, rest, ok := parseDirent(b)
			if !ok {
				return nil, errors.New("malformed directory entry")
			}
			b = rest
			if name != "." && name != ".." {
				names = append(names, name)
			}
		}
	}
}
