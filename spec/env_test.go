package spec

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

var callerEnv = []string{
	"PATH=/usr/bin:/bin",
	"HOME=/home/u",
	"USER=u",
	"LOGNAME=u",
	"SHELL=/bin/bash",
	"TERM=xterm",
	"LANG=C.UTF-8",
	"LC_ALL=C",
	"LC_TIME=en_GB",
	"TZ=UTC",
	"TMPDIR=/tmp",
	"CI=true",
	"EDITOR=vi",
	"GOPATH=/home/u/go",
	"GITHUB_TOKEN=ghp_x",
	"AWS_ACCESS_KEY_ID=AKIA",
	"MY_SECRET=s",
	"DB_PASSWORD=p",
	"API_KEY=k",
	"SSH_AUTH_SOCK=/run/agent",
	"ACTIONS_RUNTIME_TOKEN=t",
	"LC_TOKEN=x", // allowlisted family, but looks secret
	"NOEQUALS",
}

func TestFilterEnvAllowlist(t *testing.T) {
	got, dropped, err := FilterEnv(callerEnv, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CI=true",
		"GOPATH=/home/u/go",
		"HOME=/home/u",
		"LANG=C.UTF-8",
		"LC_ALL=C",
		"LC_TIME=en_GB",
		"LOGNAME=u",
		"PATH=/usr/bin:/bin",
		"SHELL=/bin/bash",
		"TERM=xterm",
		"TMPDIR=/tmp",
		"TZ=UTC",
		"USER=u",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FilterEnv:\n got %q\nwant %q", got, want)
	}
	wantDropped := []string{"ACTIONS_RUNTIME_TOKEN", "API_KEY", "AWS_ACCESS_KEY_ID", "DB_PASSWORD", "EDITOR", "GITHUB_TOKEN", "LC_TOKEN", "MY_SECRET", "SSH_AUTH_SOCK"}
	if !reflect.DeepEqual(dropped, wantDropped) {
		t.Errorf("dropped %q, want %q", dropped, wantDropped)
	}
}

// TestFilterEnvCIAndToolchains: CI systems' build metadata and toolchain
// settings pass; their credentials do not; --env-all passes the rest but
// never a secret-looking name.
func TestFilterEnvCIAndToolchains(t *testing.T) {
	caller := []string{
		"GITHUB_SHA=abc", "GITHUB_REF=refs/heads/main", "GITHUB_WORKSPACE=/w", "GITHUB_TOKEN=ghp",
		"CI_COMMIT_SHA=abc", "CI_JOB_TOKEN=t", "CI_REGISTRY_PASSWORD=p", "BUILDKITE_COMMIT=abc",
		"BUILDKITE_AGENT_ACCESS_TOKEN=t", "CIRCLE_SHA1=abc", "BUILD_NUMBER=7", "SYSTEM_ACCESSTOKEN=t",
		"ACTIONS_ID_TOKEN_REQUEST_URL=u", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=t", "npm_config__auth=x",
		"GOFLAGS=-mod=mod", "GOPROXY=off", "NODE_OPTIONS=--max-old-space-size=4096", "CC=clang",
		"CFLAGS=-O2", "MAKEFLAGS=-j4", "JAVA_HOME=/usr/lib/jvm/x", "EDITOR=vi",
	}
	got, dropped, err := FilterEnv(caller, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"GITHUB_SHA=abc", "GITHUB_REF=refs/heads/main", "GITHUB_WORKSPACE=/w", "CI_COMMIT_SHA=abc",
		"BUILDKITE_COMMIT=abc", "CIRCLE_SHA1=abc", "BUILD_NUMBER=7", "GOFLAGS=-mod=mod", "GOPROXY=off",
		"NODE_OPTIONS=--max-old-space-size=4096", "CC=clang", "CFLAGS=-O2", "MAKEFLAGS=-j4", "JAVA_HOME=/usr/lib/jvm/x"} {
		if !slices.Contains(got, kv) {
			t.Errorf("%s did not pass", kv)
		}
	}
	secrets := []string{"GITHUB_TOKEN", "CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "BUILDKITE_AGENT_ACCESS_TOKEN",
		"SYSTEM_ACCESSTOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "npm_config__auth"}
	all, _, err := FilterEnv(caller, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range secrets {
		for _, env := range [][]string{got, all} {
			for _, kv := range env {
				if strings.HasPrefix(kv, name+"=") {
					t.Errorf("secret %s passed", name)
				}
			}
		}
		if !slices.Contains(dropped, name) {
			t.Errorf("%s not among the dropped names %q", name, dropped)
		}
	}
	if slices.Contains(got, "EDITOR=vi") || !slices.Contains(all, "EDITOR=vi") {
		t.Errorf("EDITOR: allowlist %v, --env-all %v; want only with --env-all", slices.Contains(got, "EDITOR=vi"), slices.Contains(all, "EDITOR=vi"))
	}
}

func TestFilterEnvRequests(t *testing.T) {
	tests := []struct {
		name     string
		caller   []string
		requests []string
		want     []string
	}{
		{"named secret passes", callerEnv, []string{"GITHUB_TOKEN", "SSH_AUTH_SOCK"}, nil},
		{"set value", []string{"PATH=/bin"}, []string{"API_URL=http://x"}, []string{"API_URL=http://x", "PATH=/bin"}},
		{"empty value", []string{"PATH=/bin"}, []string{"EMPTY="}, []string{"EMPTY=", "PATH=/bin"}},
		{"value with equals", []string{"PATH=/bin"}, []string{"K=a=b"}, []string{"K=a=b", "PATH=/bin"}},
		{"later set wins", []string{"PATH=/bin"}, []string{"K=1", "K=2"}, []string{"K=2", "PATH=/bin"}},
		{"later pass wins", []string{"PATH=/bin", "K=caller"}, []string{"K=1", "K"}, []string{"K=caller", "PATH=/bin"}},
		{"set overrides pass", []string{"PATH=/bin", "K=caller"}, []string{"K", "K=2"}, []string{"K=2", "PATH=/bin"}},
		{"override allowlisted", []string{"PATH=/bin", "TERM=xterm"}, []string{"TERM=dumb"}, []string{"PATH=/bin", "TERM=dumb"}},
		{"pass missing is absent", []string{"PATH=/bin"}, []string{"NOPE"}, []string{"PATH=/bin"}},
		{"missing PATH gets default", []string{"HOME=/h"}, nil, []string{"HOME=/h", "PATH=" + defaultPath}},
		{"set PATH", nil, []string{"PATH=/opt/bin"}, []string{"PATH=/opt/bin"}},
		{"empty caller", nil, nil, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := FilterEnv(tt.caller, tt.requests, false)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil { // the allowlist plus the two named secrets
				want = []string{
					"CI=true", "GITHUB_TOKEN=ghp_x", "GOPATH=/home/u/go", "HOME=/home/u", "LANG=C.UTF-8", "LC_ALL=C",
					"LC_TIME=en_GB", "LOGNAME=u", "PATH=/usr/bin:/bin", "SHELL=/bin/bash",
					"SSH_AUTH_SOCK=/run/agent", "TERM=xterm", "TMPDIR=/tmp", "TZ=UTC", "USER=u",
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FilterEnv(%q):\n got %q\nwant %q", tt.requests, got, want)
			}
		})
	}
}

func TestFilterEnvInvalidRequest(t *testing.T) {
	for _, req := range []string{"=x", "", "=", "A\x00B=1"} {
		if got, _, err := FilterEnv(callerEnv, []string{"PATH", req}, false); err == nil {
			t.Errorf("FilterEnv request %q: got %q, want an error", req, got)
		}
	}
}

func TestLooksSecret(t *testing.T) {
	secret := []string{
		"GITHUB_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_REGION", "MY_SECRET", "DB_PASSWORD",
		"API_KEY", "api_key", "SSH_AUTH_SOCK", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
		"GH_PAT", "NPM_CONFIG__AUTH", "DOCKER_CONFIG", "VAULT_ADDR", "CI_JOB_JWT", "RUNNER_TEMP",
		"GOOGLE_APPLICATION_CREDENTIALS", "MY_PRIVATE", "SMTP_PASSWD", "STRIPE_APIKEY", "DEPLOY_KEYS",
		"GPG_TTY", "AZURE_CLIENT_ID", "OAUTH_CLIENT", "CREDENTIALS_FILE",
	}
	plain := []string{
		"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_ALL", "TZ", "TMPDIR", "CI",
		"EDITOR", "GOPATH", "KEYBOARD", "MONKEY", "HOSTNAME", "PATHEXT",
	}
	for _, n := range secret {
		if !LooksSecret(n) {
			t.Errorf("LooksSecret(%q) = false, want true", n)
		}
	}
	for _, n := range plain {
		if LooksSecret(n) {
			t.Errorf("LooksSecret(%q) = true, want false", n)
		}
	}
}

func TestBuildFiltersEnv(t *testing.T) {
	s, err := Build(Options{Command: []string{"true"}, Env: []string{"API_KEY", "X=1"}},
		Caller{Cwd: "/w", Env: []string{"API_KEY=k", "GITHUB_TOKEN=t", "HOME=/h"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"API_KEY=k", "HOME=/h", "PATH=" + defaultPath, "X=1", "PWD=/w"}
	if !reflect.DeepEqual(s.Env, want) {
		t.Errorf("Spec.Env = %q, want %q", s.Env, want)
	}
}

func TestLookup(t *testing.T) {
	env := []string{"A=1", "B=", "C=x=y"}
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"A", "1", true}, {"B", "", true}, {"C", "x=y", true}, {"D", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		got, ok := Lookup(env, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBuildTmpdirOutsideTheSandbox(t *testing.T) {
	tests := []struct{ tmpdir, workdir, want string }{
		{"/run/user/1000/tmp", "/w", "/tmp"},
		{"/tmp/user-tmp", "/w", "/tmp"},
		{"/tmp/proj/.tmp", "/tmp/proj", "/tmp/proj/.tmp"},
		{"/home/u/tmp", "/w", "/home/u/tmp"},
	}
	for _, tt := range tests {
		s, err := Build(Options{Command: []string{"true"}}, Caller{Cwd: tt.workdir, Env: []string{"TMPDIR=" + tt.tmpdir}})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := Lookup(s.Env, "TMPDIR"); got != tt.want {
			t.Errorf("TMPDIR=%s, workdir %s: got %q, want %q", tt.tmpdir, tt.workdir, got, tt.want)
		}
	}
}

// TestBuildSetsPWD: the command's PWD is the workdir as the caller named
// it, whatever PWD the caller had (a shell inside reports that path).
func TestBuildSetsPWD(t *testing.T) {
	s, err := Build(Options{Command: []string{"true"}, Env: []string{"PWD=/elsewhere"}},
		Caller{Cwd: "/home/u/link", Env: []string{"PWD=/home/u/link"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := envValues(s.Env, "PWD"); !reflect.DeepEqual(got, []string{"/home/u/link"}) {
		t.Errorf("PWD %q, want once, the workdir", got)
	}
}

// envValues are the values of name in env, in order.
func envValues(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			out = append(out, v)
		}
	}
	return out
}
