package spec

import (
	"github.com/sbx-sandbox/sbx/caps"

	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testCaller = Caller{Cwd: "/home/u/proj", Env: []string{"PATH=/bin", "HOME=/home/u"}}

func TestBuildDefaults(t *testing.T) {
	s, err := Build(Options{Command: []string{"make", "test"}, Grace: 10 * time.Second, Timeout: time.Minute}, testCaller)
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Command:  []string{"make", "test"},
		Hostname: "sbx",
		Workdir:  "/home/u/proj",
		Env:      []string{"HOME=/home/u", "PATH=/bin", "PWD=/home/u/proj"},
		Rootfs:   RootfsCOW,
		Home:     HomeCOW,
		MapUsers: MapAuto,
		// On by default: see GitProtect.
		GitProtect: true,
		Net:        NetNone,
		Timeout:    time.Minute,
		Grace:      10 * time.Second,
		// Docker's capability set and sbx's seccomp filter.
		Caps:    caps.Default(),
		Seccomp: "default",
		// No limits asked for; those a host cannot enforce stop the run.
		Limits: Limits{Mode: LimitsStrict},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Build defaults:\n got %+v\nwant %+v", s, want)
	}
}

func TestBuildExplicitValues(t *testing.T) {
	o := Options{
		Command: []string{"true"}, Hostname: "box-1.example", Rootfs: "ro",
		MapUsers: "none", Net: "host", UID: 1000, GID: 100,
	}
	s, err := Build(o, Caller{Cwd: "/home/u/proj/"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Hostname != "box-1.example" || s.Rootfs != RootfsRO || s.MapUsers != MapNone ||
		s.Net != NetHost || s.UID != 1000 || s.GID != 100 {
		t.Errorf("Build kept the wrong values: %+v", s)
	}
	if s.Workdir != "/home/u/proj" {
		t.Errorf("Workdir = %q, want the cleaned cwd /home/u/proj", s.Workdir)
	}
}

func TestBuildResolvesRelativePaths(t *testing.T) {
	o := Options{
		Command: []string{"true"},
		Workdir: "sub/../src",
		Keep:    "../keep",
		Report:  "out/run.json",
		Mounts: []Mount{
			{Kind: MountBind, Source: "data", Target: "mnt/data"},
			{Kind: MountROBind, Source: "/abs/src", Target: "/abs/dst/"},
			{Kind: MountTmpfs, Target: "/scratch"},
			{Kind: MountHide, Target: "/home/u/.ssh"},
		},
	}
	s, err := Build(o, testCaller)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][2]string{
		"workdir": {s.Workdir, "/home/u/proj/src"},
		"keep":    {s.Keep, "/home/u/keep"},
		"report":  {s.Report, "/home/u/proj/out/run.json"},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %q, want %q", name, got[0], got[1])
		}
	}
	want := []Mount{
		{Kind: MountBind, Source: "/home/u/proj/data", Target: "/home/u/proj/mnt/data"},
		{Kind: MountROBind, Source: "/abs/src", Target: "/abs/dst"},
		{Kind: MountTmpfs, Target: "/scratch"},
		{Kind: MountHide, Target: "/home/u/.ssh"},
	}
	if !reflect.DeepEqual(s.Mounts, want) {
		t.Errorf("Mounts:\n got %+v\nwant %+v", s.Mounts, want)
	}
}

func TestBuildErrors(t *testing.T) {
	cmd := []string{"true"}
	tests := []struct {
		name   string
		o      Options
		cwd    string
		errHas string
	}{
		{"no command", Options{}, "", "no command"},
		{"workdir root", Options{Command: cmd, Workdir: "/"}, "", "--workdir /"},
		{"cwd is root", Options{Command: cmd}, "/", "--workdir /"},
		{"workdir proc fd", Options{Command: cmd, Workdir: "/proc/self/fd/3"}, "", "under /proc"},
		{"workdir proc", Options{Command: cmd, Workdir: "/proc"}, "", "under /proc"},
		{"workdir proc via dotdot", Options{Command: cmd, Workdir: "../../../proc/1/cwd"}, "", "under /proc"},
		{"hostname underscore", Options{Command: cmd, Hostname: "a_b"}, "", "--hostname"},
		{"hostname space", Options{Command: cmd, Hostname: "a b"}, "", "--hostname"},
		{"hostname slash", Options{Command: cmd, Hostname: "a/b"}, "", "--hostname"},
		{"hostname 65 bytes", Options{Command: cmd, Hostname: strings.Repeat("a", 65)}, "", "longer than 64"},
		{"uid too big", Options{Command: cmd, UID: 70000}, "", "--uid 70000"},
		{"uid negative", Options{Command: cmd, UID: -1}, "", "between 0 and 65535"},
		{"gid too big", Options{Command: cmd, GID: 65536}, "", "between 0 and 65535"},
		{"negative timeout", Options{Command: cmd, Timeout: -time.Second}, "", "must not be negative"},
		{"negative grace", Options{Command: cmd, Grace: -time.Second}, "", "must not be negative"},
		{"unknown net", Options{Command: cmd, Net: "bridge"}, "", `--net "bridge"`},
		{"unknown rootfs", Options{Command: cmd, Rootfs: "rw"}, "", `--rootfs "rw"`},
		{"unknown map-users", Options{Command: cmd, MapUsers: "all"}, "", `--map-users "all"`},
		{"tmpfs relative", Options{Command: cmd, Mounts: []Mount{{Kind: MountTmpfs, Target: "tmp"}}}, "", "must be absolute"},
		{"hide relative", Options{Command: cmd, Mounts: []Mount{{Kind: MountHide, Target: ".ssh"}}}, "", "must be absolute"},
		{"bind over root", Options{Command: cmd, Mounts: []Mount{{Kind: MountBind, Source: "/x", Target: "/"}}}, "", "cannot mount over /"},
		{"tmpfs over root", Options{Command: cmd, Mounts: []Mount{{Kind: MountTmpfs, Target: "/a/.."}}}, "", "cannot mount over /"},
		{"bind under proc", Options{Command: cmd, Mounts: []Mount{{Kind: MountBind, Source: "/x", Target: "/proc/sys"}}}, "", "under /proc"},
		{"tmpfs on proc", Options{Command: cmd, Mounts: []Mount{{Kind: MountTmpfs, Target: "/proc"}}}, "", "under /proc"},
		{"ro-bind under proc via dotdot", Options{Command: cmd, Mounts: []Mount{{Kind: MountROBind, Source: "/x", Target: "/tmp/../proc/1"}}}, "", "under /proc"},
		{"bad env request", Options{Command: cmd, Env: []string{"=x"}}, "", "--env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCaller
			if tt.cwd != "" {
				c.Cwd = tt.cwd
			}
			s, err := Build(tt.o, c)
			if err == nil {
				t.Fatalf("Build succeeded with %+v, want an error containing %q", s, tt.errHas)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not contain %q", err, tt.errHas)
			}
		})
	}
}

func TestBuildAcceptsBoundaries(t *testing.T) {
	tests := []Options{
		{Hostname: strings.Repeat("a", 64)},
		{UID: 65535, GID: 65535},
		{Workdir: "/procfs/x"}, // only /proc itself and below are refused
		{Mounts: []Mount{{Kind: MountTmpfs, Target: "/process"}}},
	}
	for _, o := range tests {
		o.Command = []string{"true"}
		if _, err := Build(o, testCaller); err != nil {
			t.Errorf("Build(%+v): %v, want success", o, err)
		}
	}
}

// The network's flags choose --net slirp when --net is not given, and
// contradict any other mode, naming the flags.
func TestBuildNetworkFlags(t *testing.T) {
	tests := []struct {
		o       Options
		want    NetMode
		wantErr string
	}{
		{Options{}, NetNone, ""},
		{Options{Net: "slirp"}, NetSlirp, ""},
		{Options{Net: "host"}, NetHost, ""},
		{Options{AllowNet: []string{"proxy.golang.org:443"}}, NetSlirp, ""},
		{Options{Publish: []string{"8080:80"}}, NetSlirp, ""},
		{Options{AllowHostLoopback: true}, NetSlirp, ""},
		{Options{NetLog: "net.jsonl"}, NetSlirp, ""},
		{Options{DNSUpstream: "127.0.0.1:53"}, NetSlirp, ""},
		{Options{Net: "none", AllowNet: []string{"x.org"}}, "", "--allow-net: only with --net slirp"},
		{Options{Net: "host", Publish: []string{"80:80"}, NetLog: "l"}, "", "--net-log, --publish: only with --net slirp"},
		{Options{Net: "tap"}, "", `--net "tap"`},
	}
	for _, tt := range tests {
		tt.o.Command = []string{"true"}
		s, err := Build(tt.o, testCaller)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: err = %v, want %q", tt.o, err, tt.wantErr)
			}
			continue
		}
		if err != nil || s.Net != tt.want {
			t.Errorf("%+v: net = %v, err = %v; want %s", tt.o, s, err, tt.want)
		}
	}
	s, err := Build(Options{Command: []string{"true"}, NetLog: "net.jsonl"}, testCaller)
	if err != nil || !filepath.IsAbs(s.NetLog) {
		t.Errorf("--net-log relative: %v, %v; want an absolute path", s, err)
	}
}

func TestParseMountFlag(t *testing.T) {
	tests := []struct {
		kind    MountKind
		value   string
		want    Mount
		wantErr bool
	}{
		{MountBind, "src:/dst", Mount{Kind: MountBind, Source: "src", Target: "/dst"}, false},
		{MountBind, "/data", Mount{Kind: MountBind, Source: "/data", Target: "/data"}, false},
		{MountBind, "/data:", Mount{Kind: MountBind, Source: "/data", Target: "/data"}, false},
		{MountBind, "a:/b:c", Mount{Kind: MountBind, Source: "a", Target: "/b:c"}, false},
		{MountROBind, "b", Mount{Kind: MountROBind, Source: "b", Target: "b"}, false},
		{MountROBind, "~/x:/x", Mount{Kind: MountROBind, Source: "~/x", Target: "/x"}, false},
		{MountTmpfs, "/y", Mount{Kind: MountTmpfs, Target: "/y"}, false},
		{MountHide, "/z", Mount{Kind: MountHide, Target: "/z"}, false},
		{MountBind, "", Mount{}, true},
		{MountROBind, ":/x", Mount{}, true},
		{MountTmpfs, "", Mount{}, true},
		{MountHide, "", Mount{}, true},
		{MountKind("overlay"), "/x", Mount{}, true},
	}
	for _, tt := range tests {
		got, err := ParseMountFlag(tt.kind, tt.value)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMountFlag(%s, %q) error = %v, wantErr %v", tt.kind, tt.value, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseMountFlag(%s, %q) = %+v, want %+v", tt.kind, tt.value, got, tt.want)
		}
	}
}

func TestBuildReadOnlyHasNoChanges(t *testing.T) {
	for _, o := range []Options{
		{Command: []string{"true"}, Rootfs: "ro", Diff: true},
		{Command: []string{"true"}, Rootfs: "ro", Keep: "kept"},
	} {
		if _, err := Build(o, Caller{Cwd: "/w"}); err == nil || !strings.Contains(err.Error(), "--rootfs cow") {
			t.Errorf("Build(%+v) = %v, want an error naming --rootfs cow", o, err)
		}
	}
}

func TestBuildGitProtect(t *testing.T) {
	for _, tt := range []struct {
		flag string
		want bool
		ok   bool
	}{{"", true, true}, {"on", true, true}, {"off", false, true}, {"no", false, false}} {
		s, err := Build(Options{Command: []string{"true"}, GitProtect: tt.flag}, Caller{Cwd: "/w"})
		if (err == nil) != tt.ok {
			t.Errorf("--git-protect %q: err %v", tt.flag, err)
			continue
		}
		if err == nil && s.GitProtect != tt.want {
			t.Errorf("--git-protect %q: GitProtect %v, want %v", tt.flag, s.GitProtect, tt.want)
		}
	}
}

func TestBuildPrivileges(t *testing.T) {
	o := Options{Command: []string{"true"}, CapAdd: []string{"SYS_ADMIN"}, CapDrop: []string{"CAP_NET_RAW"},
		LastCap: 40, Seccomp: "prof.json", AllowNestedUserns: true}
	s, err := Build(o, Caller{Cwd: "/home/u/proj"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Caps.Has(caps.SysAdmin) || s.Caps.Has(13) || !s.Caps.Has(0) {
		t.Errorf("caps %v", s.Caps.Names())
	}
	if s.Seccomp != "/home/u/proj/prof.json" || !s.AllowNestedUserns {
		t.Errorf("seccomp %q nested %v", s.Seccomp, s.AllowNestedUserns)
	}
	for _, v := range []string{"default", "", "unconfined"} {
		o := Options{Command: []string{"true"}, Seccomp: v}
		s, err := Build(o, Caller{Cwd: "/home/u/proj"})
		if err != nil {
			t.Fatalf("--seccomp %q: %v", v, err)
		}
		if want := map[string]string{"": "default"}[v]; s.Seccomp != v && s.Seccomp != want {
			t.Errorf("--seccomp %q: %q", v, s.Seccomp)
		}
	}
	o.CapAdd = []string{"CAP_FLY"}
	if _, err := Build(o, Caller{Cwd: "/home/u/proj"}); err == nil || !strings.Contains(err.Error(), "--cap-add") {
		t.Errorf("unknown capability: %v", err)
	}
}

func TestBuildLimits(t *testing.T) {
	build := func(l Limits) (*Spec, error) {
		return Build(Options{Command: []string{"true"}, Limits: l}, Caller{Cwd: "/w"})
	}
	s, err := build(Limits{Memory: "64m", Pids: "100", Mode: LimitsBestEffort})
	if err != nil || s.Limits.Mode != LimitsBestEffort || s.Limits.Memory != "64m" || !s.Limits.Asked() {
		t.Fatalf("Build = %+v, %v", s, err)
	}
	for _, tt := range []struct {
		l    Limits
		want string
	}{
		{Limits{Mode: "lenient"}, `--limits "lenient": expected strict or best-effort`},
		{Limits{MemorySwap: "1g"}, "--memory-swap needs --memory"},
	} {
		if _, err := build(tt.l); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build(%+v) = %v, want %q", tt.l, err, tt.want)
		}
	}
	if (Limits{Mode: LimitsStrict}).Asked() {
		t.Error("a mode alone asks for no limit")
	}
}
