package rootfs

import (
	"reflect"
	"testing"

	"github.com/sbx-sandbox/sbx/spec"
)

func TestBuildProtectGit(t *testing.T) {
	host := newFakeHost(t, "usr/",
		"w/.git/objects/", "w/.git/refs/", "w/.git/logs->/tmp", "w/.git/config",
		"w/sub/mod/.git/hooks->/tmp", "w/sub/mod/.git/objects/", "w/tools/hooks/", "w/sub/file/.git")
	s := &spec.Spec{Workdir: "/w", Rootfs: spec.RootfsCOW, Net: spec.NetNone}
	p := buildPlan(t, host, s, func(in *Inputs) {
		in.Git = &GitProtect{Dirs: []string{"/w/.git", "/w/sub/mod/.git"}, HooksPaths: []string{"/w/tools/hooks"}, Files: []string{"/w/sub/file/.git"}}
	})
	w := index(p.Ops, Op{Kind: OpBind, Source: "/w", Target: "/w"})
	if w < 0 {
		t.Fatal("workdir not bound")
	}
	want := []Op{
		// Every pin first: one made later would cover what is below it.
		{Kind: OpBind, Source: "/w/sub", Target: "/w/sub", Beneath: "/w", Optional: true},
		{Kind: OpBind, Source: "/w/sub/mod", Target: "/w/sub/mod", Beneath: "/w", Optional: true},
		{Kind: OpBind, Source: "/w/tools", Target: "/w/tools", Beneath: "/w", Optional: true},
		{Kind: OpBind, Source: "/w/sub/file", Target: "/w/sub/file", Beneath: "/w", Optional: true},
		// Nothing of .git is bound from the host but its hooks (missing
		// here): objects, refs and logs stay in the overlay.
		{Kind: OpOverlay, Source: "/w/.git", Target: "/w/.git", Upper: "/state/run-1/upper/git-0", Work: "/state/run-1/work/git-0", Beneath: "/w"},
		{Kind: OpOverlay, Source: "/w/sub/mod/.git", Target: "/w/sub/mod/.git", Upper: "/state/run-1/upper/git-1", Work: "/state/run-1/work/git-1", Beneath: "/w"},
		// hooks of the submodule is a symlink: not bound through.
		{Kind: OpBind, Source: "/w/tools/hooks", Target: "/w/tools/hooks", ReadOnly: true, Beneath: "/w"},
		// A submodule's .git file, read-only.
		{Kind: OpBind, Source: "/w/sub/file/.git", Target: "/w/sub/file/.git", ReadOnly: true, Beneath: "/w"},
	}
	if got := p.Ops[w+1 : w+1+len(want)]; !reflect.DeepEqual(got, want) {
		t.Errorf("ops after the workdir:\n got %+v\nwant %+v", got, want)
	}
	wantLayers := []GitLayer{{Dir: "/w/.git", Upper: "/state/run-1/upper/git-0"}, {Dir: "/w/sub/mod/.git", Upper: "/state/run-1/upper/git-1"}}
	if !reflect.DeepEqual(p.Git, wantLayers) {
		t.Errorf("git layers %+v, want %+v", p.Git, wantLayers)
	}
	for _, l := range p.Layers {
		if l.Target == "/w/.git" {
			t.Error("a git overlay is listed as a copy-on-write layer (it would show in --diff and --keep)")
		}
	}
}

func TestBuildGitProtectOff(t *testing.T) {
	host := newFakeHost(t, "usr/", "w/.git/hooks/", "w/.git/config")
	p := buildPlan(t, host, &spec.Spec{Workdir: "/w", Rootfs: spec.RootfsCOW}, nil)
	for _, op := range p.Ops {
		if op.Target != "/w" && under(op.Target, "/w") {
			t.Errorf("with protection off, op %+v in the workdir", op)
		}
	}
}

func TestBuildUserBindUnderWorkdirIsBeneath(t *testing.T) {
	host := newFakeHost(t, "usr/", "w/cache/", "data/sub/")
	s := &spec.Spec{Workdir: "/w", Rootfs: spec.RootfsCOW, Mounts: []spec.Mount{
		{Kind: spec.MountROBind, Source: "/w/cache", Target: "/cache"},
		{Kind: spec.MountROBind, Source: "/data/sub", Target: "/sub1"},
		{Kind: spec.MountBind, Source: "/data", Target: "/data"},
		{Kind: spec.MountROBind, Source: "/data/sub", Target: "/sub2"},
	}}
	p := buildPlan(t, host, s, nil)
	got := map[string]string{}
	for _, op := range p.Ops {
		if op.Kind == OpBind && (op.Target == "/cache" || op.Target == "/sub1" || op.Target == "/data" || op.Target == "/sub2") {
			got[op.Target] = op.Beneath
		}
	}
	want := map[string]string{"/cache": "/w", "/sub1": "", "/data": "", "/sub2": "/data"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Beneath per bind %v, want %v", got, want)
	}
}

// TestBuildGitThroughSymlinkAndBind: a workdir reached through a symlink is
// mounted and protected at its resolved path, where the host's symlink
// leads inside too, and a read-write bind of its parent shows the same
// protected .git.
func TestBuildGitThroughSymlinkAndBind(t *testing.T) {
	host := newFakeHost(t, "usr/", "real/w/.git/objects/", "real/w/.git/hooks/", "real/w/tools/sbx")
	s := &spec.Spec{Workdir: "/link", WorkdirSource: "/real/w", Rootfs: spec.RootfsCOW,
		Mounts: []spec.Mount{{Kind: spec.MountBind, Source: "/real", Target: "/mnt"}}}
	p := buildPlan(t, host, s, func(in *Inputs) {
		in.Git = &GitProtect{Dirs: []string{"/real/w/.git"}}
		in.Self = "/real/w/tools/sbx"
	})
	for _, want := range []Op{
		{Kind: OpBind, Source: "/real/w", Target: "/real/w"},
		{Kind: OpOverlay, Source: "/real/w/.git", Target: "/real/w/.git", Upper: "/state/run-1/upper/git-0", Work: "/state/run-1/work/git-0", Beneath: "/real/w"},
		{Kind: OpBind, Source: "/real/w/.git/hooks", Target: "/real/w/.git/hooks", ReadOnly: true, Beneath: "/real/w"},
		{Kind: OpBind, Source: "/real/w", Target: "/mnt/w", Beneath: "/real", Optional: true},
		{Kind: OpBind, Source: "/real/w/.git", Target: "/mnt/w/.git", InRoot: true},
		{Kind: OpBind, Source: "/real/w/tools/sbx", Target: "/real/w/tools/sbx", ReadOnly: true, Optional: true, Beneath: "/real/w"},
		{Kind: OpBind, Source: "/real/w/tools/sbx", Target: "/mnt/w/tools/sbx", ReadOnly: true, Optional: true, Beneath: "/real"},
	} {
		if index(p.Ops, want) < 0 {
			t.Errorf("no op %+v", want)
		}
	}
	if i, j := index(p.Ops, Op{Kind: OpBind, Source: "/real/w/.git/hooks", Target: "/link/.git/hooks", ReadOnly: true, Beneath: "/real/w"}),
		index(p.Ops, Op{Kind: OpBind, Source: "/link/.git", Target: "/mnt/w/.git", InRoot: true}); i > j {
		t.Errorf("the protected view is bound elsewhere (op %d) before it is complete (op %d)", j, i)
	}
}
