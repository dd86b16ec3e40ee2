package rootfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sbx-sandbox/sbx/spec"
)

// fakeHost is a HostView onto a temporary directory standing in for "/".
type fakeHost string

func (h fakeHost) Lstat(p string) (fs.FileInfo, error) { return os.Lstat(filepath.Join(string(h), p)) }
func (h fakeHost) ReadDir(p string) ([]fs.DirEntry, error) {
	return os.ReadDir(filepath.Join(string(h), p))
}

func (h fakeHost) Empty(p string) bool {
	entries, err := os.ReadDir(filepath.Join(string(h), p))
	return err == nil && len(entries) == 0
}

// Readable goes by the mode bits for others: the tests run as root, for
// whom every directory is readable.
func (h fakeHost) Readable(p string) bool {
	fi, err := os.Stat(filepath.Join(string(h), p))
	return err == nil && fi.Mode().Perm()&0o005 == 0o005
}

// newFakeHost makes a tree: entries ending in "/" are directories, "a->b"
// a symlink, anything else a small file.
func newFakeHost(t *testing.T, entries ...string) fakeHost {
	t.Helper()
	root := t.TempDir()
	for _, e := range entries {
		p := filepath.Join(root, strings.TrimSuffix(strings.Split(e, "->")[0], "/"))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		switch {
		case strings.Contains(e, "->"):
			must(t, os.Symlink(strings.Split(e, "->")[1], p))
		case strings.HasSuffix(e, "/"):
			must(t, os.MkdirAll(p, 0o755))
		default:
			must(t, os.WriteFile(p, []byte("x"), 0o640))
		}
	}
	// Modes independent of the umask.
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return os.Chmod(p, 0o755)
		case d.Type().IsRegular():
			return os.Chmod(p, 0o640)
		}
		return nil
	}))
	return fakeHost(root)
}

const testState = StateDir("/state/run-1")

var baseTree = []string{
	"usr/bin/", "etc/passwd", "lib->usr/lib", "proc/", "sys/", "dev/", "tmp/", "run/",
	"var/tmp/", "var/lib/", "home/u/proj/.git/hooks/", "home/u/proj/.git/config",
	"home/u/.ssh/id_rsa", "home/u/.aws/", "etc/gitlab-runner/",
}

func buildPlan(t *testing.T, host fakeHost, s *spec.Spec, mod func(*Inputs)) *Plan {
	t.Helper()
	in := Inputs{Spec: s, Host: host, State: testState, Home: "/home/u", Driver: DriverKernel}
	if mod != nil {
		mod(&in)
	}
	p, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func cowSpec() *spec.Spec {
	return &spec.Spec{Command: []string{"true"}, Workdir: "/home/u/proj", Rootfs: spec.RootfsCOW, Net: spec.NetNone}
}

// index returns the position of the first op equal to want, or -1.
func index(ops []Op, want Op) int {
	for i, op := range ops {
		if op == want {
			return i
		}
	}
	return -1
}

func targets(ops []Op, kind OpKind) []string {
	var out []string
	for _, op := range ops {
		if op.Kind == kind {
			out = append(out, op.Target)
		}
	}
	return out
}

func TestBuildCOWTopLevel(t *testing.T) {
	p := buildPlan(t, newFakeHost(t, baseTree...), cowSpec(), nil)
	// Top-level entries in ReadDir order: etc, home, usr, var are
	// overlaid; lib is a symlink; proc sys dev tmp run are replaced.
	wantHead := []Op{
		{Kind: OpOverlay, Source: "/etc", Target: "/etc", Upper: "/state/run-1/upper/0", Work: "/state/run-1/work/0", Optional: true},
		{Kind: OpOverlay, Source: "/home", Target: "/home", Upper: "/state/run-1/upper/1", Work: "/state/run-1/work/1", Optional: true},
		{Kind: OpSymlink, Source: "/lib", Target: "/lib", Optional: true},
		{Kind: OpOverlay, Source: "/usr", Target: "/usr", Upper: "/state/run-1/upper/2", Work: "/state/run-1/work/2", Optional: true},
		{Kind: OpOverlay, Source: "/var", Target: "/var", Upper: "/state/run-1/upper/3", Work: "/state/run-1/work/3", Optional: true},
		{Kind: OpBind, Source: "/state/run-1/var-tmp", Target: "/var/tmp"},
		{Kind: OpProc, Target: "/proc"},
	}
	if len(p.Ops) < len(wantHead) || !reflect.DeepEqual(p.Ops[:len(wantHead)], wantHead) {
		t.Fatalf("first ops:\n got %+v\nwant %+v", p.Ops[:min(len(p.Ops), len(wantHead))], wantHead)
	}
	wantRoot := &Op{Kind: OpOverlay, Target: "/", Upper: "/state/run-1/upper/root", Work: "/state/run-1/work/root"}
	if !reflect.DeepEqual(p.Root, wantRoot) {
		t.Errorf("Root = %+v, want %+v", p.Root, wantRoot)
	}
	// The root's layer first, then one for each overlay, in order.
	wantLayers := []Layer{{Target: "/", Lower: "/", Upper: "/state/run-1/upper/root"}}
	for _, op := range wantHead {
		if op.Kind == OpOverlay {
			wantLayers = append(wantLayers, Layer{Target: op.Target, Lower: op.Source, Upper: op.Upper})
		}
	}
	if !reflect.DeepEqual(p.Layers, wantLayers) {
		t.Errorf("Layers:\n got %+v\nwant %+v", p.Layers, wantLayers)
	}
	for _, op := range p.Ops {
		if replaced[op.Source] {
			t.Errorf("replaced %s taken from the host: %+v", op.Source, op)
		}
	}
	for _, want := range []Op{
		{Kind: OpSysfs, Target: "/sys"},
		{Kind: OpTmpfs, Target: "/dev", Mode: 0o755, Data: "nosuid,noexec"},
		{Kind: OpDevpts, Target: "/dev/pts"},
		{Kind: OpSymlink, Target: "/dev/ptmx", Data: "pts/ptmx"},
		{Kind: OpBind, Source: "/dev/null", Target: "/dev/null", Optional: true},
		{Kind: OpTmpfs, Target: "/tmp", Mode: 0o1777, Data: "nosuid,nodev"},
		{Kind: OpTmpfs, Target: "/run", Mode: 0o755, Data: "nosuid,nodev"},
		{Kind: OpBind, Source: "/state/run-1/files/hosts", Target: "/etc/hosts"},
		{Kind: OpBind, Source: "/state/run-1/files/hostname", Target: "/etc/hostname"},
		{Kind: OpHide, Source: "/state/run-1/files/empty", Target: "/proc/kcore", Optional: true},
		{Kind: OpReadOnly, Target: "/proc/sys", Optional: true},
	} {
		if index(p.Ops, want) < 0 {
			t.Errorf("missing op %+v", want)
		}
	}
	if got := targets(p.Ops, OpRootRO); got != nil {
		t.Errorf("cow plan has root-ro ops: %v", got)
	}
}

func TestBuildSplitsAroundMountPoints(t *testing.T) {
	host := newFakeHost(t, "mnt/a/b/f", "mnt/a/c/f", "mnt/other/f", "mnt/small.txt", "mnt/sock->x", "srv/state/", "srv/data/f")
	must(t, os.Chmod(filepath.Join(string(host), "mnt"), 0o750))
	must(t, os.WriteFile(filepath.Join(string(host), "mnt", "big"), nil, 0o644))
	must(t, os.Truncate(filepath.Join(string(host), "mnt", "big"), maxCopy+1))
	p := buildPlan(t, host, cowSpec(), func(in *Inputs) {
		in.MountPoints = []string{"/", "/mnt/a/b", "/proc/sys/fs/binfmt_misc", "/tmp/x"}
		in.Avoid = []string{"/srv/state"}
	})
	want := []Op{
		{Kind: OpMkdir, Target: "/mnt", Mode: 0o750},
		{Kind: OpMkdir, Target: "/mnt/a", Mode: 0o755},
		{Kind: OpOverlay, Source: "/mnt/a/b", Target: "/mnt/a/b", Upper: "/state/run-1/upper/0", Work: "/state/run-1/work/0", Optional: true},
		{Kind: OpOverlay, Source: "/mnt/a/c", Target: "/mnt/a/c", Upper: "/state/run-1/upper/1", Work: "/state/run-1/work/1", Optional: true},
		{Kind: OpBind, Source: "/mnt/big", Target: "/mnt/big", ReadOnly: true, Optional: true},
		{Kind: OpOverlay, Source: "/mnt/other", Target: "/mnt/other", Upper: "/state/run-1/upper/2", Work: "/state/run-1/work/2", Optional: true},
		{Kind: OpCopy, Source: "/mnt/small.txt", Target: "/mnt/small.txt", Mode: 0o640, Optional: true},
		{Kind: OpSymlink, Source: "/mnt/sock", Target: "/mnt/sock", Optional: true},
		{Kind: OpMkdir, Target: "/srv", Mode: 0o755},
		{Kind: OpOverlay, Source: "/srv/data", Target: "/srv/data", Upper: "/state/run-1/upper/3", Work: "/state/run-1/work/3", Optional: true},
		{Kind: OpProc, Target: "/proc"},
	}
	if len(p.Ops) < len(want) || !reflect.DeepEqual(p.Ops[:len(want)], want) {
		t.Fatalf("split ops:\n got %+v\nwant %+v", p.Ops[:min(len(p.Ops), len(want))], want)
	}
	for _, op := range p.Ops {
		if strings.HasPrefix(op.Target, "/srv/state") || strings.HasPrefix(op.Source, "/srv/state") {
			t.Errorf("avoided path in the plan: %+v", op)
		}
	}
	if len(p.Layers) != 5 || p.Layers[0].Target != "/" || p.Layers[1].Target != "/mnt/a/b" || p.Layers[4].Target != "/srv/data" {
		t.Errorf("Layers = %+v", p.Layers)
	}
}

func TestBuildSplitKeepsStickyBit(t *testing.T) {
	host := newFakeHost(t, "shared/a/b/")
	must(t, os.Chmod(filepath.Join(string(host), "shared"), 0o777|os.ModeSticky))
	p := buildPlan(t, host, cowSpec(), func(in *Inputs) { in.MountPoints = []string{"/shared/a/b"} })
	if want := (Op{Kind: OpMkdir, Target: "/shared", Mode: 0o1777}); p.Ops[0] != want {
		t.Errorf("first op = %+v, want %+v", p.Ops[0], want)
	}
}

// TestBuildReadOnlyBinds: where the kernel refuses overlayfs, --rootfs ro
// binds the host's top-level entries read-only.
func TestBuildReadOnlyBinds(t *testing.T) {
	s := cowSpec()
	s.Rootfs = spec.RootfsRO
	s.Mounts = []spec.Mount{{Kind: spec.MountTmpfs, Target: "/scratch"}}
	p := buildPlan(t, newFakeHost(t, append(baseTree, "vmlinuz")...), s, func(in *Inputs) {
		in.MountPoints = []string{"/usr/bin"}
		in.Driver = DriverBinds
	})
	want := []Op{
		{Kind: OpBind, Source: "/etc", Target: "/etc", ReadOnly: true},
		{Kind: OpBind, Source: "/home", Target: "/home", ReadOnly: true},
		{Kind: OpSymlink, Source: "/lib", Target: "/lib", Optional: true},
		{Kind: OpBind, Source: "/usr", Target: "/usr", ReadOnly: true},
		{Kind: OpBind, Source: "/var", Target: "/var", ReadOnly: true},
		{Kind: OpBind, Source: "/vmlinuz", Target: "/vmlinuz", ReadOnly: true},
		{Kind: OpBind, Source: "/state/run-1/var-tmp", Target: "/var/tmp"},
		{Kind: OpProc, Target: "/proc"},
	}
	if !reflect.DeepEqual(p.Ops[:len(want)], want) {
		t.Fatalf("ro ops:\n got %+v\nwant %+v", p.Ops[:len(want)], want)
	}
	if got := targets(p.Ops, OpOverlay); got != nil || p.Layers != nil || p.Root != nil {
		t.Errorf("ro plan has overlays %v, layers %+v", got, p.Layers)
	}
	n := len(p.Ops)
	if p.Ops[n-1] != (Op{Kind: OpRootRO, Target: "/"}) ||
		p.Ops[n-2] != (Op{Kind: OpTmpfs, Target: "/scratch", Mode: 0o1777, Data: "nosuid,nodev"}) {
		t.Errorf("last ops = %+v, want the user's tmpfs then root-ro", p.Ops[n-2:])
	}
}

// TestBuildReadOnlyOverlays: --rootfs ro is the copy-on-write layout with
// every overlay read-only, and the root read-only last: the host's unix
// sockets then show but connect nowhere, as in the copy-on-write view.
func TestBuildReadOnlyOverlays(t *testing.T) {
	s := cowSpec()
	s.Rootfs = spec.RootfsRO
	host := newFakeHost(t, append(baseTree, "vmlinuz")...)
	p := buildPlan(t, host, s, func(in *Inputs) {
		in.MountPoints = []string{"/usr/bin"}
		in.Driver = DriverKernel
	})
	cow := buildPlan(t, host, cowSpec(), func(in *Inputs) {
		in.MountPoints = []string{"/usr/bin"}
		in.Driver = DriverKernel
	})
	if p.Root == nil || p.HostFS != nil {
		t.Fatalf("root %+v hostfs %+v", p.Root, p.HostFS)
	}
	overlays := 0
	for i, op := range p.Ops {
		if op.Kind == OpOverlay {
			overlays++
			if !op.ReadOnly {
				t.Errorf("overlay %s is not read-only", op.Target)
			}
			c := cow.Ops[i]
			c.ReadOnly = true
			if c != op {
				t.Errorf("op %d: %+v, copy-on-write has %+v", i, op, cow.Ops[i])
			}
		}
	}
	if overlays == 0 || overlays != len(targets(cow.Ops, OpOverlay)) {
		t.Errorf("%d overlays, copy-on-write has %v", overlays, targets(cow.Ops, OpOverlay))
	}
	if last := p.Ops[len(p.Ops)-1]; last != (Op{Kind: OpRootRO, Target: "/"}) {
		t.Errorf("last op %+v, want root-ro", last)
	}
}

func TestBuildSplitVarKeepsVarTmp(t *testing.T) {
	host := newFakeHost(t, "var/lib/docker/f", "var/lib/apt/f", "var/log/f", "var/tmp/x/")
	p := buildPlan(t, host, cowSpec(), func(in *Inputs) {
		in.MountPoints = []string{"/var/lib/docker", "/var/tmp/x"}
	})
	want := []Op{
		{Kind: OpMkdir, Target: "/var", Mode: 0o755},
		{Kind: OpMkdir, Target: "/var/lib", Mode: 0o755},
		{Kind: OpOverlay, Source: "/var/lib/apt", Target: "/var/lib/apt", Upper: testState.Upper("0"), Work: testState.Work("0"), Optional: true},
		{Kind: OpOverlay, Source: "/var/lib/docker", Target: "/var/lib/docker", Upper: testState.Upper("1"), Work: testState.Work("1"), Optional: true},
		{Kind: OpOverlay, Source: "/var/log", Target: "/var/log", Upper: testState.Upper("2"), Work: testState.Work("2"), Optional: true},
		{Kind: OpMkdir, Target: "/var/tmp", Mode: 0o1777},
		{Kind: OpBind, Source: testState.VarTmp(), Target: "/var/tmp"},
		{Kind: OpProc, Target: "/proc"},
	}
	if len(p.Ops) < len(want) || !reflect.DeepEqual(p.Ops[:len(want)], want) {
		t.Errorf("ops:\n got %+v\nwant %+v", p.Ops[:min(len(p.Ops), len(want))], want)
	}
}

func TestBuildNetHostAndKeep(t *testing.T) {
	host := newFakeHost(t, "usr/")
	for _, tt := range []struct {
		net       spec.NetMode
		keep      string
		sysSource string
	}{
		{spec.NetNone, "", ""},
		{spec.NetHost, "/k", "/sys"},
	} {
		s := cowSpec()
		s.Net, s.Keep = tt.net, tt.keep
		p := buildPlan(t, host, s, func(in *Inputs) { in.Driver, in.FuseOverlayfs = DriverFuse, "/usr/bin/fuse-overlayfs" })
		if i := index(p.Ops, Op{Kind: OpSysfs, Source: tt.sysSource, Target: "/sys"}); i < 0 {
			t.Errorf("--net %s: no sysfs op with source %q in %+v", tt.net, tt.sysSource, p.Ops)
		}
		if p.KeepUpper != (tt.keep != "") || p.Driver != DriverFuse || p.FuseOverlayfs != "/usr/bin/fuse-overlayfs" {
			t.Errorf("--net %s keep %q: KeepUpper %v Driver %q Fuse %q", tt.net, tt.keep, p.KeepUpper, p.Driver, p.FuseOverlayfs)
		}
	}
}

func TestBuildUnreadableDirIsEmptyReadOnly(t *testing.T) {
	h := newFakeHost(t, "usr/", "closed/")
	must(t, os.Chmod(filepath.Join(string(h), "closed"), 0o700))
	s := &spec.Spec{Workdir: "/work", Rootfs: spec.RootfsCOW, Net: spec.NetNone}
	p, err := Build(Inputs{Spec: s, Host: h, State: StateDir("/state")})
	must(t, err)
	var closed []Op
	for _, op := range p.Ops {
		if op.Target == "/closed" {
			closed = append(closed, op)
		}
	}
	want := []Op{{Kind: OpTmpfs, Target: "/closed", Mode: 0o700, Data: "ro,nosuid,nodev,noexec"}}
	if !reflect.DeepEqual(closed, want) {
		t.Errorf("ops for /closed = %+v, want %+v", closed, want)
	}
	for _, l := range p.Layers {
		if l.Target == "/closed" {
			t.Errorf("unreadable /closed got a layer: %+v", l)
		}
	}
}

// An empty host directory is a plain directory of the skeleton: what is
// written in it lands in the root's layer, and it costs no overlay.
func TestBuildEmptyHostDirIsInTheRootLayer(t *testing.T) {
	h := newFakeHost(t, "usr/bin/", "srv/")
	must(t, os.Chmod(filepath.Join(string(h), "srv"), 0o775))
	s := &spec.Spec{Workdir: "/w", Rootfs: spec.RootfsCOW}
	p, err := Build(Inputs{Spec: s, Host: h, State: testState})
	must(t, err)
	var srv []Op
	for _, op := range p.Ops {
		if op.Target == "/srv" {
			srv = append(srv, op)
		}
	}
	want := []Op{{Kind: OpMkdir, Target: "/srv", Mode: 0o775}}
	if !reflect.DeepEqual(srv, want) {
		t.Errorf("ops for the empty /srv = %+v, want %+v", srv, want)
	}
	wantLayers := []Layer{
		{Target: "/", Lower: "/", Upper: testState.Upper("root")},
		{Target: "/usr", Lower: "/usr", Upper: testState.Upper("0")},
	}
	if !reflect.DeepEqual(p.Layers, wantLayers) {
		t.Errorf("layers = %+v, want %+v", p.Layers, wantLayers)
	}
}

func TestSkeletonOps(t *testing.T) {
	ops := []Op{
		{Kind: OpMkdir, Target: "/mnt"},                  // skeleton
		{Kind: OpOverlay, Target: "/mnt/a"},              // mount point in the skeleton
		{Kind: OpCopy, Target: "/mnt/f"},                 // skeleton
		{Kind: OpMkdir, Target: "/mnt/a/x"},              // inside the overlay
		{Kind: OpProc, Target: "/proc"},                  // mount point in the skeleton
		{Kind: OpHide, Target: "/proc/kcore"},            // inside /proc
		{Kind: OpTmpfs, Target: "/dev"},                  // mount point in the skeleton
		{Kind: OpSymlink, Target: "/dev/ptmx"},           // inside /dev
		{Kind: OpSymlink, Target: "/lib"},                // skeleton
		{Kind: OpTmpfs, Target: "/mnt"},                  // over the skeleton's /mnt
		{Kind: OpMkdir, Target: "/mnt/later"},            // inside that tmpfs
		{Kind: OpBind, Target: "/devices", Source: "/x"}, // not under /dev
		{Kind: OpRootRO, Target: "/"},                    // never
	}
	want := []bool{true, true, true, false, true, false, true, false, true, true, false, true, false}
	if got := skeletonOps(ops); !reflect.DeepEqual(got, want) {
		t.Errorf("skeletonOps = %v, want %v", got, want)
	}
}

func TestBuildCgroupOnlyWithItsNamespace(t *testing.T) {
	host := newFakeHost(t, "usr/")
	for _, ns := range []bool{false, true} {
		s := cowSpec()
		s.CgroupNS = ns
		p := buildPlan(t, host, s, nil)
		sys := index(p.Ops, Op{Kind: OpSysfs, Target: "/sys"})
		cg := index(p.Ops, Op{Kind: OpCgroup, Target: "/sys/fs/cgroup"})
		// Without a cgroup namespace of its own the sandbox would see the
		// host's hierarchy; with one, over /sys, never under it.
		if (cg >= 0) != ns || (ns && cg < sys) {
			t.Errorf("CgroupNS %v: cgroup op at %d, sysfs at %d", ns, cg, sys)
		}
	}
}
