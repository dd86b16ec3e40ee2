package rootfs

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sbx-sandbox/sbx/spec"
)

// Tests of the caller's homes (build_home.go) and the secrets under them.

const emptyFile = "/state/run-1/files/empty"

func hidden(p *Plan) map[string]int {
	out := map[string]int{}
	for _, op := range p.Ops {
		if op.Kind == OpHide {
			out[op.Target]++
		}
	}
	return out
}

func TestBuildHidesSecretsInPasswdHome(t *testing.T) {
	host := newFakeHost(t, "home/u/proj/", "home/u/.ssh/id_rsa", "srv/alt/.ssh/id_rsa", "srv/alt/.aws/", "usr/")
	p := buildPlan(t, host, cowSpec(), func(in *Inputs) { in.Home, in.PasswdHome = "/srv/alt", "/home/u" })
	h := hidden(p)
	for _, want := range []string{"/home/u/.ssh", "/srv/alt/.ssh", "/srv/alt/.aws"} {
		if h[want] != 1 {
			t.Errorf("%s hidden %d times, want once (hides: %v)", want, h[want], h)
		}
	}
}

func TestBuildHomesDeduplicated(t *testing.T) {
	host := newFakeHost(t, baseTree...)
	for _, passwd := range []string{"/home/u", "/home/u/", "/home//u", "", "/", "home/u"} {
		p := buildPlan(t, host, cowSpec(), func(in *Inputs) { in.PasswdHome = passwd })
		if h := hidden(p); h["/home/u/.ssh"] != 1 || h["/home/u/.aws"] != 1 {
			t.Errorf("PasswdHome %q: hides %v, want /home/u/.ssh and /home/u/.aws once each", passwd, h)
		}
	}
}

func TestBuildHidesHistoriesAndCredentials(t *testing.T) {
	secrets := []string{
		".bash_history", ".zsh_history", ".local/share/fish/fish_history", ".psql_history",
		".lesshst", ".viminfo", ".pgpass", ".my.cnf", ".mozilla/", ".config/google-chrome/",
		".config/Bitwarden/", ".oci/", ".config/helm/", ".minikube/", ".config/containers/auth.json",
		".m2/settings.xml", ".gradle/gradle.properties", ".nuget/NuGet/NuGet.Config",
		".config/composer/auth.json", ".config/glab-cli/", ".local/share/gnupg/",
	}
	tree := []string{"usr/", "home/u/proj/", "home/u/.profile", "home/u/.m2/repository/", "home/u/.config/other/"}
	for _, s := range secrets {
		tree = append(tree, "home/u/"+s)
	}
	p := buildPlan(t, newFakeHost(t, tree...), cowSpec(), nil)
	h := hidden(p)
	for _, s := range secrets {
		if want := "/home/u/" + strings.TrimSuffix(s, "/"); h[want] != 1 {
			t.Errorf("%s not hidden", want)
		}
	}
	// Beside them, the rest of the home stays.
	for _, keep := range []string{"/home/u/.profile", "/home/u/.m2", "/home/u/.m2/repository", "/home/u/.config", "/home/u/.config/other"} {
		if h[keep] != 0 {
			t.Errorf("%s hidden, want it left visible", keep)
		}
	}
}

func TestBuildHomeEmpty(t *testing.T) {
	host := newFakeHost(t, append(baseTree, "srv/alt/.ssh/", "srv/data/")...)
	s := cowSpec()
	s.Home = spec.HomeEmpty
	s.Mounts = []spec.Mount{{Kind: spec.MountBind, Source: "/home/u/data", Target: "/home/u/data"}}
	must(t, os.MkdirAll(string(host)+"/home/u/data", 0o755))
	p := buildPlan(t, host, s, func(in *Inputs) { in.Home, in.PasswdHome = "/srv/alt", "/home/u" })

	w := index(p.Ops, Op{Kind: OpBind, Source: "/home/u/proj", Target: "/home/u/proj"})
	b := index(p.Ops, Op{Kind: OpBind, Source: "/home/u/data", Target: "/home/u/data"})
	for _, home := range []string{"/srv/alt", "/home/u"} {
		i := index(p.Ops, Op{Kind: OpTmpfs, Target: home, Mode: 0o755, Data: "nosuid,nodev"})
		if i < 0 || w < 0 || i > w || b < w {
			t.Errorf("home %s tmpfs at %d, workdir bind at %d, --bind at %d: want the home first", home, i, w, b)
		}
	}
	// Nothing of the host is left under the homes to hide; elsewhere the
	// secrets still are.
	h := hidden(p)
	for target := range h {
		if under(target, "/home/u") || under(target, "/srv/alt") {
			t.Errorf("hide %s under an emptied home", target)
		}
	}
	if h["/etc/gitlab-runner"] != 1 {
		t.Errorf("runner credentials not hidden under --home empty: %v", h)
	}
}

func TestBuildHomeEmptyNestedAndMissing(t *testing.T) {
	host := newFakeHost(t, baseTree...)
	s := cowSpec()
	s.Home = spec.HomeEmpty
	for _, tt := range []struct {
		home, passwd string
		want         []string
	}{
		{"/home/u/alt", "/home/u", []string{"/home/u"}}, // the outer one covers the inner
		{"/home/u", "/home/u/alt", []string{"/home/u"}},
		{"/nonexistent", "/home/u", []string{"/home/u"}}, // nothing there to hide
		{"/", "relative", nil},
	} {
		p := buildPlan(t, host, s, func(in *Inputs) { in.Home, in.PasswdHome = tt.home, tt.passwd })
		var got []string
		for _, op := range p.Ops {
			if op.Kind == OpTmpfs && op.Mode == 0o755 && under(op.Target, "/home") || op.Target == "/nonexistent" {
				got = append(got, op.Target)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("HOME %s, passwd home %s: emptied %v, want %v", tt.home, tt.passwd, got, tt.want)
		}
	}
}

// README.md documents every hidden home path.
func TestHomeSecretsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	must(t, err)
	var row string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| secrets |") {
			row = line
		}
	}
	words := map[string]bool{}
	for _, f := range strings.FieldsFunc(row, func(r rune) bool { return r == ' ' || r == '`' || r == ',' }) {
		words[f] = true
	}
	for _, s := range HomeSecrets {
		if !words[s] {
			t.Errorf("README.md's secrets row does not list %s", s)
		}
	}
}
