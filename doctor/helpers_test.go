package doctor

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestMain lets the test binary be the probe process: RunProbe starts
// /proc/self/exe __probe KIND, which is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == ProbeArg {
		os.Exit(ProbeMain(os.Args[2]))
	}
	os.Exit(m.Run())
}

// fakeHost is a host where everything sbx needs is in place; tests break
// one thing at a time.
type fakeHost struct {
	t      *testing.T
	dir    string
	h      Host
	denied map[string]bool  // paths Access refuses
	fstype map[string]int64 // statfs results by path
	bins   map[string]string
	probes map[string]error
	calls  map[string]int
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	dir := t.TempDir()
	f := &fakeHost{
		t: t, dir: dir,
		denied: map[string]bool{},
		fstype: map[string]int64{},
		bins:   map[string]string{},
		probes: map[string]error{},
		calls:  map[string]int{},
	}
	f.h = Host{
		ProcSys:       filepath.Join(dir, "proc/sys"),
		Proc:          filepath.Join(dir, "proc"),
		Etc:           filepath.Join(dir, "etc"),
		Dev:           filepath.Join(dir, "dev"),
		CgroupFS:      filepath.Join(dir, "sys/fs/cgroup"),
		ProcSelf:      filepath.Join(dir, "proc/self"),
		Root:          filepath.Join(dir, "root"),
		UserName:      "alice",
		UID:           1000,
		KernelRelease: "6.1.0-18-amd64",
		LookPath: func(name string) (string, error) {
			if p, ok := f.bins[name]; ok {
				return p, nil
			}
			return "", errors.New("not found")
		},
		Access: func(path string, mode uint32) error {
			if f.denied[path] {
				return os.ErrPermission
			}
			_, err := os.Stat(path)
			return err
		},
		FSType: func(path string) (int64, error) {
			if t, ok := f.fstype[path]; ok {
				return t, nil
			}
			return 0, os.ErrNotExist
		},
		Probe: func(kind string) error {
			f.calls[kind]++
			return f.probes[kind]
		},
		LandlockABI: func() int { return 4 },
	}
	f.write("proc/sys/user/max_user_namespaces", "63704\n")
	f.write("proc/filesystems", "nodev\ttmpfs\n\text4\nnodev\toverlay\n")
	f.write("proc/self/status", "Name:\tdoctor\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n")
	f.write("proc/self/cgroup", "0::/user.slice/user-1000.slice/session-1.scope\n")
	f.write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n")
	f.write("etc/subuid", "alice:100000:65536\n")
	f.write("etc/subgid", "alice:100000:65536\n")
	f.write("dev/fuse", "")
	f.write("dev/net/tun", "")
	f.write("root/.keep", "")
	f.bins["fuse-overlayfs"] = "/usr/bin/fuse-overlayfs"
	f.bins["newuidmap"] = f.binary("newuidmap", 0o755|os.ModeSetuid)
	f.bins["newgidmap"] = f.binary("newgidmap", 0o755|os.ModeSetuid)
	cg := "sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/"
	f.write(cg+"cgroup.controllers", "cpuset cpu io memory pids\n")
	f.write(cg+"cgroup.procs", "")
	f.write(cg+"cgroup.subtree_control", "")
	f.fstype[f.h.CgroupFS] = cgroup2Magic
	return f
}

// write creates dir/rel with content, and its parents.
func (f *fakeHost) write(rel, content string) {
	f.t.Helper()
	p := filepath.Join(f.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeHost) remove(rel string) {
	f.t.Helper()
	if err := os.RemoveAll(filepath.Join(f.dir, rel)); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeHost) path(rel string) string { return filepath.Join(f.dir, rel) }

// binary makes a fake helper with mode; chmod, not WriteFile, because the
// umask would drop the setuid bit.
func (f *fakeHost) binary(name string, mode os.FileMode) string {
	f.write("bin/"+name, "#!/bin/sh\n")
	p := f.path("bin/" + name)
	if err := os.Chmod(p, mode); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func find(t *testing.T, checks []Check, name string) Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %v", name, checks)
	return Check{}
}

// check runs every check on f and returns the one named.
func (f *fakeHost) check(name string) Check {
	f.t.Helper()
	return find(f.t, Run(f.h), name)
}
