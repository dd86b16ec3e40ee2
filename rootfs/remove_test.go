package rootfs

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// asOwner runs fn on a thread without the capabilities that bypass file
// permissions, so that a test run as root meets mode-000 directories as
// their owner does. The thread is thrown away afterwards.
func asOwner(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with us
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		for _, c := range []uint{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_FOWNER} {
			data[c/32].Effective &^= 1 << (c % 32)
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// withFileLimit lowers RLIMIT_NOFILE for the rest of the test.
func withFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var old unix.Rlimit
	must(t, unix.Getrlimit(unix.RLIMIT_NOFILE, &old))
	lim := old
	lim.Cur = n
	must(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &lim))
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &old) })
}

// nest makes depth directories named d inside one another below dir,
// through descriptors (the path outgrows PATH_MAX), and calls at(fd, i) in
// each.
func nest(t *testing.T, dir string, depth int, at func(fd, level int)) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, err)
	for i := 0; i < depth; i++ {
		must(t, unix.Mkdirat(fd, "d", 0o755))
		next, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		must(t, err)
		unix.Close(fd)
		fd = next
		if at != nil {
			at(fd, i)
		}
	}
	unix.Close(fd)
}

// fastTempDir is a temporary directory on a tmpfs where there is one: the
// deep tree takes thousands of directory creations.
func fastTempDir(t *testing.T) string {
	t.Helper()
	var st unix.Statfs_t
	if unix.Statfs("/dev/shm", &st) != nil || st.Type != unix.TMPFS_MAGIC {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "sbx-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestRemoveTreeDeepWithFewDescriptors(t *testing.T) {
	canary := t.TempDir()
	must(t, os.WriteFile(filepath.Join(canary, "keepme"), []byte("x"), 0o600))
	dir := filepath.Join(fastTempDir(t), "tree")
	must(t, os.Mkdir(dir, 0o700))
	const depth = 6000
	nest(t, dir, depth, func(fd, i int) {
		switch {
		case i%500 == 7:
			f, err := unix.Openat(fd, "file", unix.O_CREAT|unix.O_WRONLY, 0o600)
			must(t, err)
			unix.Close(f)
			must(t, unix.Symlinkat(canary, fd, "link"))
			must(t, unix.Symlinkat(filepath.Join(canary, "keepme"), fd, "filelink"))
		case i%1000 == 999:
			// A locked box on the way: mode 000 with something inside.
			must(t, unix.Mkdirat(fd, "locked", 0o755))
			must(t, unix.Mkdirat(fd, "locked/sub", 0o755))
			must(t, unix.Fchmodat(fd, "locked", 0, 0))
		}
	})
	must(t, unix.Chmod(dir, 0o500)) // not writable: must be opened up too
	withFileLimit(t, 64)
	if err := asOwner(t, func() error { return RemoveTree(dir) }); err != nil {
		t.Fatalf("RemoveTree of %d nested directories with 64 descriptors: %v", depth, err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("after RemoveTree: %v", err)
	}
	if got := names(t, canary); len(got) != 1 || got[0] != "keepme" {
		t.Errorf("canary holds %v: a symlink was followed", got)
	}
}

func TestRemoveTreeAtLeavesSymlinkTargets(t *testing.T) {
	canary := t.TempDir()
	must(t, os.Mkdir(filepath.Join(canary, "inner"), 0o700))
	must(t, os.WriteFile(filepath.Join(canary, "inner", "keepme"), nil, 0o600))
	must(t, os.Chmod(canary, 0o750))
	base := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(base, "tree", "a"), 0o755))
	must(t, os.Symlink(canary, filepath.Join(base, "tree", "a", "link")))
	must(t, os.Symlink(canary, filepath.Join(base, "top-link")))
	fd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, err)
	defer unix.Close(fd)
	must(t, RemoveTreeAt(fd, "tree"))
	// A symlink as the name itself is removed, never followed.
	must(t, RemoveTreeAt(fd, "top-link"))
	if got := names(t, base); len(got) != 0 {
		t.Errorf("left %v", got)
	}
	if _, err := os.Stat(filepath.Join(canary, "inner", "keepme")); err != nil {
		t.Errorf("the symlinks' target lost a file: %v", err)
	}
	if fi, err := os.Stat(canary); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("the symlinks' target changed: %v %v", fi.Mode(), err)
	}
	must(t, RemoveTreeAt(fd, "missing"))
	for _, bad := range []string{"", ".", "..", "a/b"} {
		if err := RemoveTreeAt(fd, bad); err == nil {
			t.Errorf("RemoveTreeAt(%q) succeeded", bad)
		}
	}
}

func TestRemoveTreeModeZero(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	for _, d := range []string{"work/work/x/y", "wx", "rx/z", "r"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(dir, "work/work/x/f"), nil, 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "r/f"), nil, 0o000))
	for d, mode := range map[string]os.FileMode{"work/work/x": 0, "work/work": 0, "wx": 0o300, "rx": 0o500, "r": 0o400} {
		must(t, os.Chmod(filepath.Join(dir, d), mode))
	}
	if err := asOwner(t, func() error { return RemoveTree(dir) }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("after RemoveTree: %v", err)
	}
}

// Files in a directory of another id fail the removal (the caller retries
// in the user namespace), and everything else is still removed.
func TestRemoveTreeOtherOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give a directory to another id")
	}
	dir := filepath.Join(t.TempDir(), "tree")
	must(t, os.MkdirAll(filepath.Join(dir, "theirs"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "mine", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "theirs", "f"), nil, 0o644))
	must(t, os.Chown(filepath.Join(dir, "theirs"), 65534, 65534))
	err := asOwner(t, func() error { return RemoveTree(dir) })
	if err == nil || !strings.Contains(err.Error(), "theirs") {
		t.Fatalf("RemoveTree with another id's files: %v, want an error naming theirs", err)
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "theirs" {
		t.Errorf("left %v, want only theirs", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "theirs", "f")); err != nil {
		t.Error(err)
	}
}

// Two removers of one tree both succeed.
func TestRemoveTreeConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	for i := 0; i < 40; i++ {
		d := filepath.Join(dir, strings.Repeat("x", i%7+1), string(rune('a'+i%26)), "deep", "er")
		must(t, os.MkdirAll(d, 0o755))
		for j := 0; j < 20; j++ {
			must(t, os.WriteFile(filepath.Join(d, string(rune('a'+j))), nil, 0o644))
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = RemoveTree(dir)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("remover %d: %v", i, err)
		}
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("after RemoveTree: %v", err)
	}
}
