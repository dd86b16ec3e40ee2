package cgdelegate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree lays out a fake host for discovery: /proc/self's cgroup and
// mountinfo, and a cgroup2 mount at ROOT/cgroup with the cgroups named,
// each with the interface files of a real one.
type tree struct {
	t    *testing.T
	root string
}

func newTree(t *testing.T, own string, mountinfo ...string) *tree {
	tr := &tree{t: t, root: t.TempDir()}
	proc := filepath.Join(tr.root, "proc")
	must(t, os.MkdirAll(proc, 0o755))
	must(t, os.WriteFile(filepath.Join(proc, "cgroup"), []byte("0::"+own+"\n"), 0o644))
	if len(mountinfo) == 0 {
		mountinfo = []string{"35 24 0:30 / " + tr.mount() + " rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate"}
	}
	must(t, os.WriteFile(filepath.Join(proc, "mountinfo"), []byte(strings.Join(mountinfo, "\n")+"\n"), 0o644))
	return tr
}

func (tr *tree) mount() string { return filepath.Join(tr.root, "cgroup") }

// caller is the host as the delegatee sees it: a uid that owns the
// delegated cgroups (1000, chowned to, when the test runs as root).
func (tr *tree) caller() Host {
	return Host{ProcSelf: filepath.Join(tr.root, "proc"), UID: owner(), GIDs: []int{owner()}}
}

func owner() int {
	if os.Getuid() == 0 {
		return 1000
	}
	return os.Getuid()
}

// cgroup makes hierarchy path p with its controllers, those enabled for
// its children, and its processes; every file mode 0644 and the
// directory 0755, owned by the caller: delegated to it.
func (tr *tree) cgroup(p, controllers, subtree string, procs ...string) string {
	dir := filepath.Join(tr.mount(), p)
	must(tr.t, os.MkdirAll(dir, 0o755))
	files := map[string]string{
		"cgroup.controllers":     controllers,
		"cgroup.subtree_control": subtree,
		"cgroup.procs":           strings.Join(procs, "\n"),
		"cgroup.threads":         "",
		"cgroup.events":          "populated 0\nfrozen 0\n",
	}
	for name, content := range files {
		must(tr.t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
		if os.Getuid() == 0 {
			must(tr.t, os.Chown(filepath.Join(dir, name), owner(), owner()))
		}
	}
	if os.Getuid() == 0 {
		must(tr.t, os.Chown(dir, owner(), owner()))
	}
	return dir
}

// notDelegated makes p's directory and files read-only to the caller, as
// a cgroup systemd does not delegate is (root's, 0644 and 0755); its
// children must exist already.
func (tr *tree) notDelegated(p string) {
	dir := filepath.Join(tr.mount(), p)
	entries, err := os.ReadDir(dir)
	must(tr.t, err)
	for _, e := range entries {
		if !e.IsDir() {
			must(tr.t, os.Chmod(filepath.Join(dir, e.Name()), 0o444))
		}
	}
	must(tr.t, os.Chmod(dir, 0o555))
	tr.t.Cleanup(func() { os.Chmod(dir, 0o755) })
}
