package main

import (
	"os"
	"reflect"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/sbx-sandbox/sbx/spec"
)

func TestBareNetMeansSlirp(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"bare before --", []string{"run", "--net", "--", "true"}, []string{"run", "--net=slirp", "--", "true"}},
		{"bare before flag", []string{"run", "--net", "--diff", "--", "true"}, []string{"run", "--net=slirp", "--diff", "--", "true"}},
		{"at end", []string{"run", "--net"}, []string{"run", "--net=slirp"}},
		{"with value", []string{"run", "--net", "none", "--", "true"}, []string{"run", "--net", "none", "--", "true"}},
		{"with equals", []string{"run", "--net=host", "--", "true"}, []string{"run", "--net=host", "--", "true"}},
		{"after --", []string{"run", "--", "curl", "--net", "-x"}, []string{"run", "--", "curl", "--net", "-x"}},
		{"after -- at end", []string{"run", "--", "x", "--net"}, []string{"run", "--", "x", "--net"}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		in := append([]string(nil), tt.in...)
		got := bareNetMeansSlirp(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: bareNetMeansSlirp(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if !reflect.DeepEqual(tt.in, in) {
			t.Errorf("%s: the argument slice was modified: %q", tt.name, tt.in)
		}
	}
}

// parseRun parses args like runCLI does and returns the run command and
// its ordered mounts.
func parseRun(t *testing.T, args ...string) (*runCmd, []spec.Mount, error) {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, kong.Name("sbx"), kong.Exit(func(code int) { t.Fatalf("kong exited with %d", code) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := parser.Parse(bareNetMeansSlirp(args))
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Command() != "run <command>" {
		t.Fatalf("command = %q", ctx.Command())
	}
	mounts, err := orderedMounts(ctx, &c.Run)
	return &c.Run, mounts, err
}

func TestOrderedMounts(t *testing.T) {
	r, got, err := parseRun(t, "run", "--bind", "a:/x", "--tmpfs", "/y", "--ro-bind", "b", "--hide", "/z", "--bind", "c:/w", "--", "true")
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Mount{
		{Kind: spec.MountBind, Source: "a", Target: "/x"},
		{Kind: spec.MountTmpfs, Target: "/y"},
		{Kind: spec.MountROBind, Source: "b", Target: "b"},
		{Kind: spec.MountHide, Target: "/z"},
		{Kind: spec.MountBind, Source: "c", Target: "/w"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("orderedMounts:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(r.Command, []string{"--", "true"}) { // runCLI drops the "--"
		t.Errorf("Command = %q, want [-- true]", r.Command)
	}
}

func TestOrderedMountsEqualsFormAndNone(t *testing.T) {
	r, got, err := parseRun(t, "run", "--hide=/h", "--net", "--ro-bind=/s:/d", "--bind", "a,b:/c,d", "--", "true")
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Mount{
		{Kind: spec.MountHide, Target: "/h"},
		{Kind: spec.MountROBind, Source: "/s", Target: "/d"},
		{Kind: spec.MountBind, Source: "a,b", Target: "/c,d"}, // sep:"none": commas are part of the path
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("orderedMounts:\n got %+v\nwant %+v", got, want)
	}
	if r.Net != "slirp" {
		t.Errorf("bare --net: Net = %q, want slirp", r.Net)
	}
	r, got, err = parseRun(t, "run", "--hostname", "h", "--", "ls", "--bind", "x")
	if err != nil || got != nil {
		t.Errorf("no mount flags: got %+v, %v; want none", got, err)
	}
	// --net stays unset: the Spec makes it none, or slirp when a network
	// flag asks for it.
	if r.Net != "" || r.Rootfs != "cow" || r.MapUsers != "auto" || r.Hostname != "h" {
		t.Errorf("defaults: net %q rootfs %q map-users %q hostname %q", r.Net, r.Rootfs, r.MapUsers, r.Hostname)
	}
}

// TestBareNetInCommand: kong takes the command without "--" too
// (passthrough:"partial"), and a "--net" among its arguments is the
// command's, not sbx's.
func TestBareNetInCommand(t *testing.T) {
	in := []string{"run", "--diff", "tool", "--net", "-v"}
	if got := bareNetMeansSlirp(in); !reflect.DeepEqual(got, in) {
		t.Errorf("bareNetMeansSlirp(%q) = %q, want it unchanged", in, got)
	}
	r, _, err := parseRun(t, in...)
	if err != nil || !reflect.DeepEqual(r.Command, []string{"tool", "--net", "-v"}) || r.Net != "" {
		t.Errorf("Command = %q, Net = %q, %v; want [tool --net -v], unset", r.Command, r.Net, err)
	}
}

func TestOrderedMountsBadValue(t *testing.T) {
	if _, got, err := parseRun(t, "run", "--bind", ":/x", "--", "true"); err == nil {
		t.Errorf("--bind :/x: got %+v, want an error", got)
	}
}

func TestRunCLIExitCodes(t *testing.T) {
	// Keep kong's usage text and the version out of the test output.
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = devnull, devnull
	defer func() { os.Stdout, os.Stderr = stdout, stderr }()

	tests := []struct {
		args []string
		want int
	}{
		{[]string{"run", "--rootfs", "bogus", "--", "true"}, 125},
		{[]string{"run", "--map-users", "all", "--", "true"}, 125},
		{[]string{"run", "--net", "bogus", "--", "true"}, 125},
		{[]string{"run", "--uid", "x", "--", "true"}, 125},
		{[]string{"run", "--bind", ":/x", "--", "true"}, 125},
		{[]string{"run"}, 125},
		{[]string{"bogus"}, 125},
		{nil, 125},
		{[]string{"version"}, 0},
		{[]string{"--help"}, 0},
	}
	for _, tt := range tests {
		if got := runCLI(tt.args); got != tt.want {
			t.Errorf("runCLI(%q) = %d, want %d", tt.args, got, tt.want)
		}
	}
}
