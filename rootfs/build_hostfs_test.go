package rootfs

import (
	"slices"
	"testing"
)

// TestBuildHostFS checks the plan for the FUSE view: nothing is built from
// the host's entries (no overlay per directory, no copies, no splitting
// around mount points), the root's overlay is the only one, and the view
// is told what to serve empty and what not at all.
func TestBuildHostFS(t *testing.T) {
	host := newFakeHost(t, baseTree...)
	p := buildPlan(t, host, cowSpec(), func(in *Inputs) {
		in.Driver = DriverHostFS
		in.MountPoints = []string{"/usr/bin", "/home/u"}
		in.Avoid = []string{"/var/tmp/sbx-1001", "/home/u/kept"}
	})
	if p.HostFS == nil || p.HostFS.Mount != testState.HostFS() {
		t.Fatalf("HostFS = %+v, want the mount point %s", p.HostFS, testState.HostFS())
	}
	if p.Root == nil || len(p.Layers) != 1 || p.Layers[0].Target != "/" {
		t.Errorf("layers %+v, want the root's alone", p.Layers)
	}
	for _, op := range p.Ops {
		if op.Kind == OpOverlay || op.Kind == OpCopy || op.Kind == OpSymlink && op.Source != "" {
			t.Errorf("op built from the host's entries: %+v", op)
		}
	}
	for _, want := range []string{"/proc", "/sys", "/dev", "/tmp", "/run", "/var/tmp", "/home/u/.ssh", "/home/u/.aws", "/etc/gitlab-runner"} {
		if !slices.Contains(p.HostFS.Empty, want) {
			t.Errorf("Empty %v lacks %s", p.HostFS.Empty, want)
		}
	}
	for _, e := range p.HostFS.Empty {
		if under(e, "/proc") && e != "/proc" {
			t.Errorf("Empty holds %s, inside the sandbox's own /proc", e)
		}
	}
	if want := []string{"/var/tmp/sbx-1001", "/home/u/kept"}; !slices.Equal(p.HostFS.Absent, want) {
		t.Errorf("Absent %v, want %v", p.HostFS.Absent, want)
	}
	if i := index(p.Ops, Op{Kind: OpBind, Source: testState.VarTmp(), Target: "/var/tmp"}); i < 0 {
		t.Error("no private /var/tmp")
	}
}
