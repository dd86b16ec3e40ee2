package gitprotect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// writeTree creates files under dir: a name ending in "/" is a directory,
// any other gets the content.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func openDir(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// merge runs MergeBack of upper into host, both paths, with
// fuse-overlayfs's whiteouts (`.wh.` names), which the tests write by hand.
func merge(t *testing.T, upper, host string) Result {
	t.Helper()
	res, err := MergeBackWith(openDir(t, upper), openDir(t, host), Options{FuseWhiteouts: true})
	if err != nil {
		t.Fatalf("MergeBack: %v", err)
	}
	return res
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func assertMissing(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Errorf("%s exists (%v), want it missing", p, err)
	}
}

func refusedFor(res Result, path string) *Refusal {
	for i, r := range res.Refused {
		if r.Path == path {
			return &res.Refused[i]
		}
	}
	return nil
}

func TestMergeConfigAndFiles(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{
		"config": "[core]\n\tbare = false\n[user]\n\temail = old@x\n",
		"HEAD":   "ref: refs/heads/main\n",
	})
	writeTree(t, upper, map[string]string{
		"config":                "[core]\n\tbare = false\n\tfsmonitor = /tmp/evil\n[user]\n\temail = new@x\n",
		"HEAD":                  "ref: refs/heads/topic\n",
		"info/exclude":          "*.o\n",
		"modules/sub/config":    "[core] hooksPath = /tmp/evil\n[user]\nname = n\n",
		"worktrees/w/gitdir":    "/w/.git\n",
		"worktrees/w/commondir": "../..\n",
		"worktrees/v/commondir": "/etc\n",
		"commondir":             "../..\n",
	})
	res := merge(t, upper, host)
	cfg := readFile(t, filepath.Join(host, "config"))
	if !strings.Contains(cfg, "email = new@x") || strings.Contains(cfg, "fsmonitor") {
		t.Errorf("host config = %q", cfg)
	}
	if r := refusedFor(res, "config"); r == nil || r.Key != "core.fsmonitor" {
		t.Errorf("refusal for config = %+v", r)
	}
	if got := readFile(t, filepath.Join(host, "modules/sub/config")); got != "[core] \n[user]\nname = n\n" {
		t.Errorf("submodule config = %q", got)
	}
	if r := refusedFor(res, "modules/sub/config"); r == nil || r.Key != "core.hookspath" {
		t.Errorf("refusal for modules/sub/config = %+v", r)
	}
	if got := readFile(t, filepath.Join(host, "HEAD")); got != "ref: refs/heads/topic\n" {
		t.Errorf("HEAD = %q", got)
	}
	if got := readFile(t, filepath.Join(host, "info/exclude")); got != "*.o\n" {
		t.Errorf("info/exclude = %q", got)
	}
	if got := readFile(t, filepath.Join(host, "worktrees/w/commondir")); got != "../..\n" {
		t.Errorf("worktree commondir = %q", got)
	}
	for _, p := range []string{"commondir", "worktrees/v/commondir"} {
		assertMissing(t, filepath.Join(host, p))
		if refusedFor(res, p) == nil {
			t.Errorf("%s not refused", p)
		}
	}
	if res.Applied == 0 {
		t.Error("Applied = 0")
	}
}

func TestMergeUnchangedConfigNotRewritten(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"config": "[core]\nbare = false\n"})
	writeTree(t, upper, map[string]string{"config": "[core]\nbare = false\npager = evil\n"})
	before, _ := os.Stat(filepath.Join(host, "config"))
	res := merge(t, upper, host)
	after, _ := os.Stat(filepath.Join(host, "config"))
	if !os.SameFile(before, after) {
		t.Error("config rewritten though the filtered result equals the host's")
	}
	if res.Applied != 0 || len(res.Refused) != 1 || res.Refused[0].Key != "core.pager" {
		t.Errorf("result = %+v", res)
	}
}

func TestMergeUnparseableConfigKeepsHost(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"config": "[user]\nname = n\n"})
	writeTree(t, upper, map[string]string{"config": "[user]\nname = m\n[core]\nfsmonitor = \"x\n"})
	res := merge(t, upper, host)
	if got := readFile(t, filepath.Join(host, "config")); got != "[user]\nname = n\n" {
		t.Errorf("config = %q", got)
	}
	if r := refusedFor(res, "config"); r == nil || !strings.Contains(r.Reason, "line 4") {
		t.Errorf("refusal = %+v", r)
	}
}

func TestMergeRefusesHooks(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, upper, map[string]string{
		"hooks/pre-commit":              "#!/bin/sh\nevil\n",
		"modules/a/hooks/post-checkout": "#!/bin/sh\nevil\n",
		"modules/a/b/hooks":             "a file named hooks\n",
		"modules/a/HEAD":                "x\n",
	})
	res := merge(t, upper, host)
	for _, p := range []string{"hooks", "modules/a/hooks", "modules/a/b/hooks"} {
		assertMissing(t, filepath.Join(host, p))
		if refusedFor(res, p) == nil {
			t.Errorf("%s not refused", p)
		}
	}
	if got := readFile(t, filepath.Join(host, "modules/a/HEAD")); got != "x\n" {
		t.Errorf("modules/a/HEAD = %q", got)
	}
}

func TestMergeRefusesSpecialFiles(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	writeTree(t, filepath.Dir(outside), map[string]string{"secret": "s\n"})
	if err := os.Symlink(outside, filepath.Join(upper, "packed-refs")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(upper, "FETCH_HEAD"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeTree(t, upper, map[string]string{"bad\nname": "x", "rebase-merge/git-rebase-todo": "pick 1 a\nexec evil\n"})
	res := merge(t, upper, host)
	for _, p := range []string{"packed-refs", "FETCH_HEAD", "bad\nname", "rebase-merge"} {
		assertMissing(t, filepath.Join(host, p))
		if refusedFor(res, p) == nil {
			t.Errorf("%q not refused", p)
		}
	}
}

func TestMergeReplacesHostSymlinks(t *testing.T) {
	upper, host, outside := t.TempDir(), t.TempDir(), t.TempDir()
	canary := filepath.Join(outside, "canary")
	writeTree(t, outside, map[string]string{"canary": "untouched\n", "dir/exclude": "untouched\n"})
	if err := os.Symlink(canary, filepath.Join(host, "HEAD")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(canary, filepath.Join(host, "config")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "dir"), filepath.Join(host, "info")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, upper, map[string]string{"HEAD": "new\n", "config": "[user]\nname = n\n", "info/exclude": "new\n"})
	merge(t, upper, host)
	if got := readFile(t, canary); got != "untouched\n" {
		t.Errorf("canary = %q", got)
	}
	if got := readFile(t, filepath.Join(outside, "dir/exclude")); got != "untouched\n" {
		t.Errorf("outside dir/exclude = %q", got)
	}
	for _, p := range []string{"HEAD", "config", "info"} {
		st, err := os.Lstat(filepath.Join(host, p))
		if err != nil || st.Mode()&os.ModeSymlink != 0 {
			t.Errorf("host %s: %v, %v: want it replaced", p, st, err)
		}
	}
	if got := readFile(t, filepath.Join(host, "info/exclude")); got != "new\n" {
		t.Errorf("info/exclude = %q", got)
	}
}

func TestMergeModeBits(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, upper, map[string]string{"x": "x"})
	if err := os.Chmod(filepath.Join(upper, "x"), 0o4755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	merge(t, upper, host)
	st, err := os.Stat(filepath.Join(host, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("mode = %v", st.Mode())
	}
}

func TestMergeTypeChanges(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"a/deep/file": "old", "b": "old"})
	writeTree(t, upper, map[string]string{"a": "now a file", "b/inside": "now a dir"})
	merge(t, upper, host)
	if got := readFile(t, filepath.Join(host, "a")); got != "now a file" {
		t.Errorf("a = %q", got)
	}
	if got := readFile(t, filepath.Join(host, "b/inside")); got != "now a dir" {
		t.Errorf("b/inside = %q", got)
	}
}

func TestMergeBadDescriptor(t *testing.T) {
	if _, err := MergeBack(-1, openDir(t, t.TempDir())); err == nil {
		t.Error("MergeBack(-1, dir) succeeded")
	}
	f, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := MergeBack(int(f.Fd()), openDir(t, t.TempDir())); err == nil {
		t.Error("MergeBack(file, dir) succeeded")
	}
}

// TestMergeBackSinceKeepsHostChanges: what the host changed during the run
// is not overwritten nor removed by the run's version; the rest merges.
func TestMergeBackSinceKeepsHostChanges(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"HEAD": "ref: refs/heads/main\n", "ORIG_HEAD": "old\n", "gone": "x"})
	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	// The host's git writes HEAD and touches "gone" meanwhile.
	writeTree(t, host, map[string]string{"HEAD": "ref: refs/heads/host\n", "gone": "y"})
	writeTree(t, upper, map[string]string{"HEAD": "ref: refs/heads/run\n", "ORIG_HEAD": "new\n", ".wh.gone": ""})
	res, err := MergeBackWith(openDir(t, upper), openDir(t, host), Options{Since: start, FuseWhiteouts: true})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "HEAD")); string(b) != "ref: refs/heads/host\n" {
		t.Errorf("HEAD = %q: the host's change was overwritten", b)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "ORIG_HEAD")); string(b) != "new\n" {
		t.Errorf("ORIG_HEAD = %q, want the run's", b)
	}
	if _, err := os.Stat(filepath.Join(host, "gone")); err != nil {
		t.Errorf("a file the host changed was removed: %v", err)
	}
	if len(res.Refused) != 2 {
		t.Errorf("refused %+v, want HEAD and gone", res.Refused)
	}
}

// TestMergeKernelUpperTakesWhiteoutNamesLiterally: under kernel overlayfs a
// `.wh.` name is a file the command made, never a whiteout, and a directory
// holding hooks is never emptied, removed or replaced by the merge.
func TestMergeKernelUpperTakesWhiteoutNamesLiterally(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, host, map[string]string{"modules/lib/hooks/pre-commit": "keep", "modules/lib/config": "[core]\n", "keepme": "x"})
	writeTree(t, upper, map[string]string{"modules/lib/.wh..wh..opq": "", ".wh.keepme": ""})
	if _, err := MergeBack(openDir(t, upper), openDir(t, host)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"modules/lib/hooks/pre-commit", "modules/lib/config", "keepme"} {
		if _, err := os.Stat(filepath.Join(host, p)); err != nil {
			t.Errorf("%s removed by a name the command made: %v", p, err)
		}
	}
	// With fuse-overlayfs's whiteouts, the hooks still stay.
	upper2 := t.TempDir()
	writeTree(t, upper2, map[string]string{"modules/lib/.wh..wh..opq": "", ".wh.modules": "", "modules/lib/x": "y"})
	res := merge(t, upper2, host)
	if _, err := os.Stat(filepath.Join(host, "modules/lib/hooks/pre-commit")); err != nil {
		t.Errorf("hooks removed through an opaque directory or a whiteout: %v (refused %+v)", err, res.Refused)
	}
	upper3 := t.TempDir()
	writeTree(t, upper3, map[string]string{"modules": "a file in place of the directory"})
	merge(t, upper3, host)
	if _, err := os.Stat(filepath.Join(host, "modules/lib/hooks/pre-commit")); err != nil {
		t.Errorf("hooks removed by a file put in place of their directory: %v", err)
	}
}

// TestMergeRefusesInProgressState: an interrupted rebase's or sequence's
// files never reach the host (a strategy there names a program).
func TestMergeRefusesInProgressState(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	writeTree(t, upper, map[string]string{"rebase-merge/strategy": "/pwn\n", "sequencer/opts": "[options]\n\tstrategy = /pwn\n", "rebase-apply/next": "1\n", "HEAD": "x\n"})
	res := merge(t, upper, host)
	for _, d := range []string{"rebase-merge", "sequencer", "rebase-apply"} {
		if _, err := os.Lstat(filepath.Join(host, d)); err == nil {
			t.Errorf("%s reached the host", d)
		}
	}
	if len(res.Refused) != 4 {
		t.Errorf("refused %+v, want the three directories and HEAD", res.Refused)
	}
	// The rebase stays unfinished inside: the host keeps its own HEAD.
	if _, err := os.Stat(filepath.Join(host, "HEAD")); err == nil {
		t.Error("HEAD of an unfinished rebase reached the host")
	}
	upper2 := t.TempDir()
	writeTree(t, upper2, map[string]string{"HEAD": "x\n"})
	merge(t, upper2, host)
	if _, err := os.Stat(filepath.Join(host, "HEAD")); err != nil {
		t.Errorf("HEAD not merged without a rebase in progress: %v", err)
	}
}

// TestMergeKeepsHoles: a sparse file costs the host no more than it cost
// the command.
func TestMergeKeepsHoles(t *testing.T) {
	upper, host := t.TempDir(), t.TempDir()
	f, err := os.Create(filepath.Join(upper, "big"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("end"), 1<<30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	merge(t, upper, host)
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(host, "big"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 1<<30+3 {
		t.Errorf("size %d, want %d", st.Size, 1<<30+3)
	}
	if st.Blocks*512 > 1<<20 {
		t.Errorf("the copy takes %d bytes on disk: the hole was written out", st.Blocks*512)
	}
	b, _ := os.ReadFile(filepath.Join(host, "big"))
	if string(b[len(b)-3:]) != "end" || b[0] != 0 {
		t.Error("content differs")
	}
}
