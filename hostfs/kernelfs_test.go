package hostfs

import (
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// The host's kernel file systems, mounted in its tree, are served as empty
// directories: with the root at "/", /proc and /sys (procfs and sysfs, on
// devices of their own) list nothing and find nothing, and /dev/pts
// (devpts, under a /dev that is served) likewise. Without the check,
// /proc would list the host's processes and /proc/self would be found.
func TestKernelFileSystemsEmpty(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/proc", &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		gap(t, "no procfs at /proc")
	}
	v := newTestFS(t, "/", Config{})
	checked := 0
	for _, path := range []string{"proc", "sys", "dev/pts"} {
		want := map[string]int64{"proc": unix.PROC_SUPER_MAGIC, "sys": unix.SYSFS_MAGIC, "dev/pts": unix.DEVPTS_SUPER_MAGIC}[path]
		var host unix.Statfs_t
		if err := unix.Statfs("/"+path, &host); err != nil || int64(host.Type) != want {
			t.Logf("/%s is not the kernel's file system here: not checked", path)
			continue
		}
		entries, err := hostNames("/" + path)
		if err != nil || len(entries) == 0 {
			t.Logf("/%s lists nothing on the host: not checked", path)
			continue
		}
		id := v.mustLookup(rootID, path)
		attr := v.attrOf(id)
		if attr.Mode&syscall.S_IFMT != syscall.S_IFDIR || attr.Nlink != 2 || attr.Size != 0 {
			t.Errorf("/%s: mode %o nlink %d size %d; want an empty directory", path, attr.Mode, attr.Nlink, attr.Size)
		}
		if names, _, st := v.readdirplus(id); st != fuse.OK || len(names) != 0 {
			t.Errorf("/%s lists %d entries (%v), want none", path, len(names), st)
		}
		if names, st := v.readdir(id); st != fuse.OK || len(names) != 0 {
			t.Errorf("/%s lists %d entries with READDIR (%v), want none", path, len(names), st)
		}
		for _, name := range entries[:min(len(entries), 5)] {
			if _, _, st := v.lookup(id, name); st != fuse.ENOENT {
				t.Errorf("lookup of /%s/%s: %v, want ENOENT", path, name, st)
			}
		}
		checked++
	}
	if checked == 0 {
		gap(t, "no kernel file system to check")
	}
	// A directory on the root's own file system is served, so that the
	// empty listings above mean something.
	if names, _, st := v.readdirplus(rootID); st != fuse.OK || !contains(names, "proc") {
		t.Errorf("listing /: %d entries, %v", len(names), st)
	}
}

// hostNames lists dir's names on the host.
func hostNames(dir string) ([]string, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	n, err := unix.ReadDirent(fd, buf)
	if err != nil {
		return nil, err
	}
	var names []string
	_, _, names = unix.ParseDirent(buf[:n], -1, names)
	return names, nil
}
