package gitprotect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMergeFuseWhiteouts(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{
		"ORIG_HEAD":        "x\n",
		"rr-cache/a/b/c":   "x\n",
		"rr-cache/done":    "x\n",
		"hooks/pre-commit": "mine\n",
		"MERGE_HEAD":       "old\n",
	})
	writeTree(t, upper, map[string]string{
		".wh.ORIG_HEAD":  "",
		".wh.rr-cache":   "",
		".wh.hooks":      "",
		".wh.MERGE_HEAD": "",
		"MERGE_HEAD":     "new\n", // both there: the upper's file wins
		".wh.absent":     "",
	})
	res := merge(t, upper, host)
	assertMissing(t, filepath.Join(host, "ORIG_HEAD"))
	assertMissing(t, filepath.Join(host, "rr-cache"))
	if got := readFile(t, filepath.Join(host, "MERGE_HEAD")); got != "new\n" {
		t.Errorf("MERGE_HEAD = %q", got)
	}
	if got := readFile(t, filepath.Join(host, "hooks/pre-commit")); got != "mine\n" {
		t.Errorf("hooks/pre-commit = %q", got)
	}
	names, _ := os.ReadDir(host)
	for _, n := range names {
		if strings.HasPrefix(n.Name(), ".wh.") || strings.HasPrefix(n.Name(), ".sbx-merge-") {
			t.Errorf("host has %s", n.Name())
		}
	}
	if refusedFor(res, "hooks") == nil {
		t.Error("whiteout of hooks not refused")
	}
}

func TestMergeKernelWhiteout(t *testing.T) {
	if os.Geteuid() != 0 {
		// CI runs the unit tests as root, where this runs.
		gap(t, "a 0/0 character device needs root to create; CI runs the unit tests as root")
	}
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"gone/x/y": "x", "also": "x"})
	for _, n := range []string{"gone", "also"} {
		if err := unix.Mknod(filepath.Join(upper, n), unix.S_IFCHR|0o600, 0); err != nil {
			gap(t, "mknod of a 0/0 character device: "+err.Error())
		}
	}
	if err := unix.Mknod(filepath.Join(upper, "dev"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	res := merge(t, upper, host)
	assertMissing(t, filepath.Join(host, "gone"))
	assertMissing(t, filepath.Join(host, "also"))
	assertMissing(t, filepath.Join(host, "dev"))
	if r := refusedFor(res, "dev"); r == nil || r.Reason != "device node" {
		t.Errorf("refusal for dev = %+v", r)
	}
}

func TestMergeOpaque(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"modules/a/old": "x", "modules/a/deep/er": "x", "modules/b": "x"})
	writeTree(t, upper, map[string]string{"modules/a/" + opaqueMarker: "", "modules/a/new": "n"})
	merge(t, upper, host)
	entries, err := os.ReadDir(filepath.Join(host, "modules/a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "new" {
		t.Errorf("modules/a holds %v, want only new", entries)
	}
	if got := readFile(t, filepath.Join(host, "modules/b")); got != "x" {
		t.Errorf("modules/b = %q: a sibling of the opaque directory changed", got)
	}
}

func TestMergeOpaqueXattr(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"info/old": "x"})
	writeTree(t, upper, map[string]string{"info/new": "n"})
	if err := unix.Setxattr(filepath.Join(upper, "info"), "user.overlay.opaque", []byte("y"), 0); err != nil {
		gap(t, "user xattrs unsupported here: "+err.Error())
	}
	merge(t, upper, host)
	assertMissing(t, filepath.Join(host, "info/old"))
	if got := readFile(t, filepath.Join(host, "info/new")); got != "n" {
		t.Errorf("info/new = %q", got)
	}
}

// mkNest makes depth nested directories "d" under dir, holding one
// descriptor at a time, and a file at the bottom.
func mkNest(t *testing.T, dir string, depth int) {
	t.Helper()
	cur := openDir(t, dir)
	cur, err := unix.FcntlInt(uintptr(cur), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range depth {
		if err := unix.Mkdirat(cur, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(cur, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(cur)
		if err != nil {
			t.Fatal(err)
		}
		cur = next
	}
	fd, err := unix.Openat(cur, "bottom", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	unix.Close(cur)
}

func TestMergeDeepNestBoundedFDs(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	mkNest(t, upper, 6000)
	mkNest(t, host, 1000) // the host tree the merge walks into is deep too
	ufd, hfd := openDir(t, upper), openDir(t, host)
	// t.TempDir's cleanup would recurse with a descriptor per level.
	t.Cleanup(func() {
		for _, fd := range []int{ufd, hfd} {
			if _, err := removeAll(fd, "d"); err != nil {
				t.Errorf("removeAll: %v", err)
			}
		}
	})

	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := unix.Rlimit{Cur: 64, Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	res, err := MergeBackWith(ufd, hfd, Options{FuseWhiteouts: true})
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatalf("MergeBack: %v", err)
	}
	tooLong := 0
	for _, r := range res.Refused {
		if strings.Contains(r.Reason, "too many open files") {
			t.Fatalf("ran out of descriptors: %+v", r.Reason)
		}
		if r.Reason == "path too long" {
			tooLong++
		}
	}
	if tooLong != 1 || len(res.Refused) != 1 {
		t.Errorf("%d refusals, %d for a long path; want one", len(res.Refused), tooLong)
	}
	// Directories 1001 to 2048, the last whose path fits, were made.
	if res.Applied != 1048 {
		t.Errorf("Applied = %d", res.Applied)
	}
}

func TestRemoveAllDeep(t *testing.T) {
	dir := t.TempDir()
	mkNest(t, dir, 3000)
	fd := openDir(t, dir)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 64, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	removed, err := removeAll(fd, "d")
	unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	if err != nil || !removed {
		t.Fatalf("removeAll = %v, %v", removed, err)
	}
	assertMissing(t, filepath.Join(dir, "d"))
}

func TestRemoveAllKeepsSymlinkTargets(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeTree(t, outside, map[string]string{"keep": "k"})
	writeTree(t, dir, map[string]string{"tree/sub/": ""})
	if err := os.Symlink(outside, filepath.Join(dir, "tree/sub/link")); err != nil {
		t.Fatal(err)
	}
	if _, err := removeAll(openDir(t, dir), "tree"); err != nil {
		t.Fatal(err)
	}
	assertMissing(t, filepath.Join(dir, "tree"))
	if got := readFile(t, filepath.Join(outside, "keep")); got != "k" {
		t.Errorf("outside file = %q", got)
	}
}
