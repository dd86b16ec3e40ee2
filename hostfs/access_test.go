package hostfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// unprivilegedEnv marks the copy of the test binary runUnprivileged starts.
const unprivilegedEnv = "HOSTFS_TEST_UNPRIVILEGED"

// nobody is the id root's tests drop to: it owns nothing they make.
const nobody = 65534

// runUnprivileged runs the test t again as the unprivileged user nobody
// when the tests run as root, who passes every permission check and would
// make t vacuous, and reports whether the caller is that copy or no root
// (and should run the test's body). A process cannot drop root in place (Go's
// threads), so the test binary is started again with nobody's ids, from a
// copy that user may execute (go test's own is under a directory only root
// may enter).
func runUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Getuid() != 0 {
		return true
	}
	if os.Getenv(unprivilegedEnv) != "" {
		t.Fatal("still root in the unprivileged copy")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "hostfs-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmp := filepath.Join(dir, "tmp")
	bin := filepath.Join(dir, "hostfs.test")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := copyExecutable(exe, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1", "TMPDIR="+tmp, "HOME="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		gap(t, "cannot start the test as uid "+strconv.Itoa(nobody)+": "+err.Error())
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as uid %d: %v\n%s", nobody, err, out)
	}
	t.Logf("as uid %d:\n%s", nobody, out)
	return false
}

func copyExecutable(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// What the caller may not read is served as if it had nothing to show: a
// directory it may not list is empty, names in one it may not search are
// not found (so what the command writes there is its own), and a root-only
// empty file (a lock file) reads as empty. A file with content it may not
// read stays refused. As root, who may read all of it, the test runs again
// as nobody (runUnprivileged).
func TestUnreadable(t *testing.T) {
	if !runUnprivileged(t) {
		return
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"locked/inner":  hiddenMarker, // mode 0: neither listed nor searched
		"noread/inner":  "inner\n",    // 0311: searched, not listed
		"lockfile":      "",           // 0: empty, reads as empty
		"secretfile":    hiddenMarker, // 0: has content, refused
		"open/readable": "readable\n", // a control: listed and read
	})
	for name, mode := range map[string]os.FileMode{"locked": 0, "noread": 0o311, "lockfile": 0, "secretfile": 0} {
		if err := os.Chmod(filepath.Join(root, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		os.Chmod(filepath.Join(root, "locked"), 0o755)
		os.Chmod(filepath.Join(root, "noread"), 0o755)
	})
	v := newTestFS(t, root, Config{})

	// The control, so that an empty listing below means something.
	open := v.mustLookup(rootID, "open")
	if names, _, st := v.readdirplus(open); st != fuse.OK || !contains(names, "readable") {
		t.Fatalf("listing a readable directory: %q, %v", names, st)
	}

	locked := v.mustLookup(rootID, "locked")
	if names, _, st := v.readdirplus(locked); st != fuse.OK || len(names) != 0 {
		t.Errorf("listing an unreadable directory: %q, %v; want empty", names, st)
	}
	if names, st := v.readdir(locked); st != fuse.OK || len(names) != 0 {
		t.Errorf("READDIR of an unreadable directory: %q, %v; want empty", names, st)
	}
	if _, _, st := v.lookup(locked, "inner"); st != fuse.ENOENT {
		t.Errorf("lookup in an unsearchable directory: %v, want ENOENT", st)
	}

	noread := v.mustLookup(rootID, "noread")
	if names, _, st := v.readdirplus(noread); st != fuse.OK || len(names) != 0 {
		t.Errorf("listing a directory without read permission: %q, %v; want empty", names, st)
	}
	inner := v.mustLookup(noread, "inner")
	if data, st := v.readFile(inner); st != fuse.OK || string(data) != "inner\n" {
		t.Errorf("a file in a searchable directory: %q, %v", data, st)
	}

	lock := v.mustLookup(rootID, "lockfile")
	if data, st := v.readFile(lock); st != fuse.OK || len(data) != 0 {
		t.Errorf("a root-only empty file: %q, %v; want it read as empty", data, st)
	}

	secret := v.mustLookup(rootID, "secretfile")
	data, st := v.readFile(secret)
	noMarker(t, "an unreadable file", data)
	if st != fuse.Status(syscall.EACCES) {
		t.Errorf("reading an unreadable file: %v, want EACCES", st)
	}
}
