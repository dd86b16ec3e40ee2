package rootfs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sbx-sandbox/sbx/spec"
)

// Tests of what goes on top of the host view (build_mounts.go).

func TestBuildWorkdirSecretsAndUserMounts(t *testing.T) {
	s := cowSpec()
	s.Mounts = []spec.Mount{
		{Kind: spec.MountBind, Source: "/usr/bin", Target: "/x"},
		{Kind: spec.MountHide, Target: "/etc/passwd"},
		{Kind: spec.MountROBind, Source: "/etc", Target: "/y"},
		{Kind: spec.MountTmpfs, Target: "/z"},
	}
	p := buildPlan(t, newFakeHost(t, baseTree...), s, func(in *Inputs) {
		in.Git = &GitProtect{Dirs: []string{"/home/u/proj/.git"}}
	})
	empty := "/state/run-1/files/empty"
	wantTail := []Op{
		{Kind: OpBind, Source: "/home/u/proj", Target: "/home/u/proj"},
		{Kind: OpHide, Source: empty, Target: "/home/u/.ssh", Optional: true},
		{Kind: OpHide, Source: empty, Target: "/home/u/.aws", Optional: true},
		{Kind: OpHide, Source: empty, Target: "/etc/gitlab-runner", Optional: true},
		{Kind: OpBind, Source: "/usr/bin", Target: "/x"},
		{Kind: OpHide, Source: empty, Target: "/etc/passwd"},
		{Kind: OpBind, Source: "/etc", Target: "/y", ReadOnly: true},
		{Kind: OpTmpfs, Target: "/z", Mode: 0o1777, Data: "nosuid,nodev"},
		// Git's protection last, over the user's mounts.
		{Kind: OpOverlay, Source: "/home/u/proj/.git", Target: "/home/u/proj/.git", Upper: "/state/run-1/upper/git-0", Work: "/state/run-1/work/git-0", Beneath: "/home/u/proj"},
		{Kind: OpBind, Source: "/home/u/proj/.git/hooks", Target: "/home/u/proj/.git/hooks", ReadOnly: true, Beneath: "/home/u/proj"},
	}
	got := p.Ops[len(p.Ops)-len(wantTail):]
	if !reflect.DeepEqual(got, wantTail) {
		t.Fatalf("last ops:\n got %+v\nwant %+v", got, wantTail)
	}
	// The workdir comes after every system op.
	w := len(p.Ops) - len(wantTail)
	for _, sys := range []Op{{Kind: OpProc, Target: "/proc"}, {Kind: OpTmpfs, Target: "/run", Mode: 0o755, Data: "nosuid,nodev"}} {
		if i := index(p.Ops, sys); i < 0 || i > w {
			t.Errorf("%s at %d, want before the workdir bind at %d", sys.Target, i, w)
		}
	}
}

func TestBuildSecretsAroundWorkdir(t *testing.T) {
	host := newFakeHost(t, "home/u/.aws/proj/", "home/u/.ssh/", "usr/", ".ssh/")
	for _, tt := range []struct {
		workdir, home string
		hides         []string
	}{
		{"/home/u/.aws/proj", "/home/u", []string{"/home/u/.ssh"}},       // a secret holding the workdir stays
		{"/home/u", "/home/u", []string{"/home/u/.ssh", "/home/u/.aws"}}, // hidden over the workdir bind
		{"/home/u/.aws/proj", "/", nil},                                  // no home: nothing of HomeSecrets
	} {
		s := cowSpec()
		s.Workdir = tt.workdir
		p := buildPlan(t, host, s, func(in *Inputs) { in.Home = tt.home })
		w := index(p.Ops, Op{Kind: OpBind, Source: tt.workdir, Target: tt.workdir})
		if w < 0 {
			t.Fatalf("workdir %s not bound", tt.workdir)
		}
		if got := targets(p.Ops[w+1:], OpHide); !reflect.DeepEqual(got, tt.hides) {
			t.Errorf("workdir %s home %s: hides %v, want %v", tt.workdir, tt.home, got, tt.hides)
		}
		for _, op := range p.Ops {
			if strings.Contains(op.Target, ".git") || op.Target == "/etc/hosts" {
				t.Errorf("unexpected op %+v (no .git, no /etc on this host)", op)
			}
		}
	}
}

func TestBuildUserBindMissingSource(t *testing.T) {
	s := cowSpec()
	s.Mounts = []spec.Mount{{Kind: spec.MountBind, Source: "/nope", Target: "/x"}}
	_, err := Build(Inputs{Spec: s, Host: newFakeHost(t, "usr/"), State: testState})
	if err == nil || !strings.Contains(err.Error(), "--bind /nope") {
		t.Errorf("err = %v, want one naming --bind /nope", err)
	}
}

func TestBuildProtectsSelfInWritableBinds(t *testing.T) {
	h := newFakeHost(t, "usr/", "home/u/proj/bin/")
	s := &spec.Spec{Workdir: "/home/u/proj", Rootfs: spec.RootfsCOW, Net: spec.NetNone,
		Mounts: []spec.Mount{{Kind: spec.MountBind, Source: "/home/u", Target: "/mnt/u"}, {Kind: spec.MountROBind, Source: "/home/u", Target: "/ro"}}}
	p, err := Build(Inputs{Spec: s, Host: h, State: StateDir("/state"), Self: "/home/u/proj/bin/sbx"})
	must(t, err)
	var got []Op
	for _, op := range p.Ops {
		if op.Source == "/home/u/proj/bin/sbx" {
			got = append(got, op)
		}
	}
	want := []Op{
		{Kind: OpBind, Source: "/home/u/proj/bin/sbx", Target: "/home/u/proj/bin/sbx", ReadOnly: true, Optional: true, Beneath: "/home/u/proj"},
		{Kind: OpBind, Source: "/home/u/proj/bin/sbx", Target: "/mnt/u/proj/bin/sbx", ReadOnly: true, Optional: true, Beneath: "/home/u"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("self protection ops = %+v, want %+v", got, want)
	}
	// Its parents are pinned (bound onto themselves), so none can be
	// renamed away: /home/u/proj/bin in the workdir, /mnt/u/proj and
	// /mnt/u/proj/bin through the bind.
	pins := map[string]string{}
	for _, op := range p.Ops {
		if op.Kind == OpBind && op.Source != "/home/u/proj/bin/sbx" && op.Beneath != "" && op.Target != "/ro" {
			pins[op.Target] = op.Beneath
		}
	}
	wantPins := map[string]string{"/home/u/proj/bin": "/home/u/proj", "/mnt/u/proj": "/home/u", "/mnt/u/proj/bin": "/home/u"}
	if !reflect.DeepEqual(pins, wantPins) {
		t.Errorf("pinned parents %v, want %v", pins, wantPins)
	}
	p, err = Build(Inputs{Spec: &spec.Spec{Workdir: "/w", Rootfs: spec.RootfsCOW}, Host: h, State: StateDir("/state"), Self: "/usr/bin/sbx"})
	must(t, err)
	for _, op := range p.Ops {
		if op.Source == "/usr/bin/sbx" {
			t.Errorf("sbx outside any writable bind got %+v", op)
		}
	}
}

func TestBuildHidesStateInWritableBinds(t *testing.T) {
	h := newFakeHost(t, "usr/", "home/u/proj/")
	s := &spec.Spec{Workdir: "/home/u/proj", Rootfs: spec.RootfsCOW, Keep: "/home/u/proj/kept"}
	p, err := Build(Inputs{Spec: s, Host: h, State: StateDir("/home/u/proj/kept"), Avoid: []string{"/var/tmp/sbx-1", "/home/u/proj/kept"}})
	must(t, err)
	last := p.Ops[len(p.Ops)-1]
	want := Op{Kind: OpHide, Source: "/home/u/proj/kept/files/empty", Target: "/home/u/proj/kept", Optional: true}
	if last != want {
		t.Errorf("last op = %+v, want %+v", last, want)
	}
	for _, op := range p.Ops {
		if op.Kind == OpHide && op.Target == "/var/tmp/sbx-1" {
			t.Errorf("state outside any writable bind was hidden: %+v", op)
		}
	}
}

// TestBuildWorkdirThroughSymlink: secrets, the state and user binds are
// found under the workdir's resolved path, and protected where the command
// sees them.
func TestBuildWorkdirThroughSymlink(t *testing.T) {
	h := newFakeHost(t, "usr/", "home/u/.ssh/", "home/u/cache/")
	s := &spec.Spec{Workdir: "/tmp/homelink", WorkdirSource: "/home/u", Rootfs: spec.RootfsCOW,
		Mounts: []spec.Mount{{Kind: spec.MountROBind, Source: "/tmp/homelink/cache", Target: "/cache"}}}
	p, err := Build(Inputs{Spec: s, Host: h, State: StateDir("/home/u/st"), Home: "/home/u",
		Avoid: []string{"/home/u/st", "/tmp/homelink/kept"}})
	must(t, err)
	empty := "/home/u/st/files/empty"
	for _, want := range []Op{
		{Kind: OpBind, Source: "/home/u", Target: "/tmp/homelink"},
		{Kind: OpHide, Source: empty, Target: "/home/u/.ssh", Optional: true},
		{Kind: OpHide, Source: empty, Target: "/tmp/homelink/.ssh", Optional: true},
		{Kind: OpBind, Source: "/home/u/cache", Target: "/cache", ReadOnly: true, Beneath: "/home/u"},
		{Kind: OpHide, Source: empty, Target: "/tmp/homelink/st", Optional: true},
		{Kind: OpHide, Source: empty, Target: "/tmp/homelink/kept", Optional: true},
	} {
		if index(p.Ops, want) < 0 {
			t.Errorf("no op %+v", want)
		}
	}
}

// TestBuildMasksAfterSysfs: the masks under /sys go on the sandbox's own
// sysfs, so they come after it; made before, they would lie beneath it.
func TestBuildMasksAfterSysfs(t *testing.T) {
	for _, net := range []spec.NetMode{spec.NetNone, spec.NetHost} {
		s := cowSpec()
		s.Net = net
		p := buildPlan(t, newFakeHost(t, baseTree...), s, nil)
		sysfs := -1
		for i, op := range p.Ops {
			if op.Kind == OpSysfs {
				sysfs = i
			}
		}
		for i, op := range p.Ops {
			if strings.HasPrefix(op.Target, "/sys/") && i < sysfs {
				t.Errorf("--net %s: %s %s at %d, before sysfs at %d", net, op.Kind, op.Target, i, sysfs)
			}
		}
		if sysfs < 0 || index(p.Ops, Op{Kind: OpHide, Source: "/state/run-1/files/empty", Target: "/sys/firmware", Optional: true}) < 0 {
			t.Errorf("--net %s: no sysfs or no /sys/firmware mask", net)
		}
	}
}
