package cgdelegate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const systemdUser = "/user.slice/user-1000.slice/user@1000.service"

func TestFindReadsOwnCgroupAndMount(t *testing.T) {
	tr := newTree(t, systemdUser+"/app.slice/test.scope")
	h, err := Find(tr.caller())
	must(t, err)
	if h.Mount != tr.mount() || h.MountRoot != "/" || h.Own != systemdUser+"/app.slice/test.scope" || h.Hybrid {
		t.Fatalf("Find = %+v", h)
	}
	if got := h.Dir(h.Own); got != filepath.Join(tr.mount(), h.Own) {
		t.Errorf("Dir = %s", got)
	}
}

func TestFindHybrid(t *testing.T) {
	tr := newTree(t, "/user.slice/user-1000.slice/session-2.scope",
		"30 24 0:26 / /sys/fs/cgroup ro,nosuid shared:4 - tmpfs tmpfs ro,mode=755",
		"31 30 0:27 / "+strings.ReplaceAll(filepath.Join(t.TempDir(), "u nified"), " ", `\040`)+" rw shared:5 - cgroup2 cgroup2 rw,nsdelegate",
		"32 30 0:28 / /sys/fs/cgroup/memory rw shared:6 - cgroup cgroup rw,memory")
	h, err := Find(tr.caller())
	must(t, err)
	if !h.Hybrid || !strings.HasSuffix(h.Mount, "/u nified") {
		t.Fatalf("Find = %+v, want hybrid with the escaped mount point read back", h)
	}
	why, fix := Explain(h, &MissingControllers{Cgroup: h.Own, Missing: []string{"memory"}})
	if !strings.Contains(why, "hybrid") || fix != FixUnified {
		t.Errorf("Explain = %q, %q", why, fix)
	}
}

func TestFindCgroupV1Only(t *testing.T) {
	tr := newTree(t, "/", "32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory")
	os.WriteFile(filepath.Join(tr.root, "proc", "cgroup"), []byte("4:memory:/user.slice\n1:name=systemd:/user.slice\n"), 0o644)
	_, err := Find(tr.caller())
	if !errors.Is(err, ErrNoV2) {
		t.Fatalf("Find = %v, want ErrNoV2", err)
	}
	if _, fix := Explain(Hierarchy{}, err); fix != FixUnified {
		t.Errorf("fix = %q", fix)
	}
}

func TestFindInCgroupNamespace(t *testing.T) {
	// sbx in a container's cgroup namespace: the mount shows the
	// namespace's root, which /proc/self/cgroup calls "/".
	tr := newTree(t, "/", "35 24 0:30 / "+filepath.Join(t.TempDir(), "cg")+" rw - cgroup2 cgroup2 rw")
	h, err := Find(tr.caller())
	must(t, err)
	if h.Own != "/" || h.Dir("/sbx-1-a") != filepath.Join(h.Mount, "sbx-1-a") {
		t.Fatalf("Find = %+v", h)
	}
}

func TestPlaceBesideShellInDelegatedSubtree(t *testing.T) {
	// systemd --user's layout: app.slice passes controllers on; the
	// shell's scope is a leaf holding processes. The run goes beside it.
	tr := newTree(t, systemdUser+"/app.slice/test.scope")
	tr.cgroup(systemdUser, "cpu io memory pids", "cpu io memory pids")
	tr.cgroup(systemdUser+"/app.slice", "cpu io memory pids", "cpu memory pids")
	tr.cgroup(systemdUser+"/app.slice/test.scope", "cpu memory pids", "", "100", "101")
	h, err := Find(tr.caller())
	must(t, err)
	base, err := Place(tr.caller(), h, []string{"memory", "pids"})
	must(t, err)
	if base != systemdUser+"/app.slice" {
		t.Fatalf("Place = %s, want the shell's parent", base)
	}
	// io is not passed on by app.slice: the shell's own cgroup cannot
	// have it either.
	_, err = Place(tr.caller(), h, []string{"memory", "io"})
	var mc *MissingControllers
	if !errors.As(err, &mc) || strings.Join(mc.Missing, " ") != "io" {
		t.Fatalf("Place(io) = %v, want io missing", err)
	}
	if _, fix := Explain(h, err); fix != FixDropIn {
		t.Errorf("fix = %q", fix)
	}
}

func TestPlaceMovesOwnProcessesOut(t *testing.T) {
	// A delegated scope (systemd-run --user --scope -p Delegate=yes)
	// under a parent that is not delegated: sbx and its shell move into
	// its child leaf "init" and the controllers are enabled there.
	own := "/user.slice/user-1000.slice/run-1.scope"
	tr := newTree(t, own)
	tr.cgroup("/user.slice/user-1000.slice", "cpu memory pids", "cpu memory pids")
	tr.cgroup(own, "cpu memory pids", "", "200", "201")
	tr.cgroup(own+"/init", "", "")
	tr.notDelegated("/user.slice/user-1000.slice")
	h, err := Find(tr.caller())
	must(t, err)
	base, err := Place(tr.caller(), h, []string{"memory", "pids"})
	must(t, err)
	if base != own {
		t.Fatalf("Place = %s, want its own cgroup", base)
	}
	moved, err := os.ReadFile(filepath.Join(h.Dir(own), "init", "cgroup.procs"))
	must(t, err)
	// A plain file keeps the last write; the kernel's takes each.
	if string(moved) != "201" {
		t.Errorf("init's cgroup.procs = %q, want the last process written", moved)
	}
	enabled, err := os.ReadFile(filepath.Join(h.Dir(own), "cgroup.subtree_control"))
	must(t, err)
	if string(enabled) != "+memory +pids" {
		t.Errorf("subtree_control written %q", enabled)
	}
}

func TestPlaceRefusesCgroupNotDelegated(t *testing.T) {
	// A login shell's session scope: root's, not delegated.
	own := "/user.slice/user-1000.slice/session-3.scope"
	tr := newTree(t, own)
	tr.cgroup("/user.slice/user-1000.slice", "cpu memory pids", "cpu memory pids")
	tr.cgroup(own, "cpu memory pids", "", "300")
	tr.notDelegated(own)
	tr.notDelegated("/user.slice/user-1000.slice")
	h, err := Find(tr.caller())
	must(t, err)
	_, err = Place(tr.caller(), h, []string{"memory"})
	var nd *NotDelegated
	if !errors.As(err, &nd) || nd.Cgroup != own || !strings.Contains(err.Error(), "not writable by uid") {
		t.Fatalf("Place = %v, want NotDelegated naming the file", err)
	}
	if _, fix := Explain(h, err); !strings.Contains(fix, FixScope) || !strings.Contains(fix, FixLinger) {
		t.Errorf("fix = %q", fix)
	}
}

func TestDelegatedNamesFileNotWritable(t *testing.T) {
	tr := newTree(t, "/a")
	dir := tr.cgroup("/a", "memory", "")
	must(t, os.Chmod(filepath.Join(dir, "cgroup.threads"), 0o444))
	err := Delegated(tr.caller(), dir)
	if err == nil || !strings.Contains(err.Error(), "cgroup.threads") {
		t.Fatalf("Delegated = %v, want cgroup.threads named", err)
	}
	root := tr.caller()
	root.UID = 0
	must(t, Delegated(root, dir)) // root may write anywhere
}

func TestLeafPID(t *testing.T) {
	for name, want := range map[string]int{"sbx-123-ab12cd34": 123, "sbx-x-1": 0, "init": 0, "sbx-0-1": 0, "sbx-7": 0} {
		if got, _ := leafPID(name); got != want {
			t.Errorf("leafPID(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestRemoveStaleOnlyDeadAndEmpty(t *testing.T) {
	tr := newTree(t, "/base/init")
	tr.cgroup("/base", "memory", "memory")
	dead := tr.cgroup("/base/sbx-999999999-aa", "memory", "")
	// Its sandbox cgroup, and one the command made in it.
	tr.cgroup("/base/sbx-999999999-aa/sandbox/made-inside", "memory", "")
	busy := tr.cgroup("/base/sbx-999999998-bb", "memory", "")
	must(t, os.WriteFile(filepath.Join(busy, "cgroup.events"), []byte("populated 1\nfrozen 0\n"), 0o644))
	tr.cgroup("/base/sbx-1-cc", "memory", "") // PID 1 is alive
	tr.cgroup("/base/other", "memory", "")
	h, err := Find(tr.caller())
	must(t, err)
	// A plain directory with files cannot be removed; the kernel's
	// cgroup directories can. Record what would be.
	var removed []string
	rmdir = func(p string) error { removed = append(removed, p); return nil }
	t.Cleanup(func() { rmdir = unix.Rmdir })
	RemoveStale(h, "/base")
	want := filepath.Join(dead, sandboxCgroup, "made-inside") + " " + filepath.Join(dead, sandboxCgroup) + " " + dead
	if strings.Join(removed, " ") != want {
		t.Fatalf("removed %q, want %q", removed, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPlaceFromEvacuationLeafUsesTheCgroupAbove(t *testing.T) {
	// Two runs start at once in a delegated scope: the first moves both
	// sbx processes into init and has not yet enabled the controllers
	// when the second looks. The second must use the scope, not init.
	own := "/user.slice/user-1000.slice/run-2.scope"
	tr := newTree(t, own+"/init")
	tr.cgroup("/user.slice/user-1000.slice", "memory pids", "memory pids")
	tr.cgroup(own, "memory pids", "")
	tr.cgroup(own+"/init", "", "", "400", "401")
	tr.notDelegated("/user.slice/user-1000.slice")
	h, err := Find(tr.caller())
	must(t, err)
	base, err := Place(tr.caller(), h, []string{"memory", "pids"})
	must(t, err)
	if base != own {
		t.Fatalf("Place = %s, want the scope above init", base)
	}
	enabled, err := os.ReadFile(filepath.Join(h.Dir(own), "cgroup.subtree_control"))
	must(t, err)
	if string(enabled) != "+memory +pids" {
		t.Errorf("subtree_control written %q", enabled)
	}
}
