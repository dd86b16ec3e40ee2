package policy

import (
	"net/netip"
	"strings"
	"testing"
)

func addrs(ss ...string) []netip.Addr {
	as := make([]netip.Addr, len(ss))
	for i, s := range ss {
		as[i] = netip.MustParseAddr(s)
	}
	return as
}

func TestQuestionWithoutRules(t *testing.T) {
	p := mustPolicy(t, false)
	for _, tt := range []struct{ name, folded string }{
		{"example.com", "example.com"},
		{"Example.COM.", "example.com"},
		{"4.3.2.1.in-addr.arpa.", "4.3.2.1.in-addr.arpa"},
		{"1.0.0.0.ip6.arpa", "1.0.0.0.ip6.arpa"},
		{"metadata.google.internal", "metadata.google.internal"},
		{"", ""},
	} {
		v := p.Question(tt.name)
		if !v.Allow || v.Rule != RuleDefault || v.Name != tt.folded {
			t.Errorf("Question(%q) = %+v, want allowed by default for %q", tt.name, v, tt.folded)
		}
	}
}

func TestQuestionWithRules(t *testing.T) {
	p := mustPolicy(t, false, "proxy.golang.org:443", "*.npmjs.org", "10.0.0.0/8", "*.example.com", "a.example.com:443")
	tests := []struct {
		name string
		rule string // "" when refused
	}{
		{"proxy.golang.org", "proxy.golang.org:443"},
		{"PROXY.golang.org.", "proxy.golang.org:443"},
		{"sub.proxy.golang.org", ""}, // an exact rule does not reach below
		{"golang.org", ""},
		{"xproxy.golang.org", ""},
		{"registry.npmjs.org", "*.npmjs.org"},
		{"a.b.npmjs.org", "*.npmjs.org"},
		{"Registry.NPMJS.org.", "*.npmjs.org"},
		{"npmjs.org", ""}, // a wildcard does not match its domain
		{"evilnpmjs.org", ""},
		{"npmjs.org.evil.com", ""},
		{"registry.npmjs.org.evil.com", ""},
		{"a.example.com", "*.example.com"}, // the first matching rule decides
		{"4.3.2.1.in-addr.arpa", ""},
		{"x.ip6.arpa", ""},
		{"10.0.0.5", ""},
		{"", ""},
		{"bad name.npmjs.org", ""},
		{"bad\\.name.npmjs.org", ""},
		{".npmjs.org", ""},
		{"a..npmjs.org", ""},
		{strings.Repeat("a.", 130) + "npmjs.org", ""},
	}
	for _, tt := range tests {
		v := p.Question(tt.name)
		if tt.rule == "" {
			if v.Allow || v.Rule != RuleNone {
				t.Errorf("Question(%q) = %+v, want refused (no-rule)", tt.name, v)
			}
			continue
		}
		if !v.Allow || v.Rule != tt.rule || v.Name != foldName(tt.name) {
			t.Errorf("Question(%q) = %+v, want allowed by %q", tt.name, v, tt.rule)
		}
	}
}

func TestNameRuleAllowsLearnedAddress(t *testing.T) {
	p := mustPolicy(t, false, "proxy.golang.org:443", "*.npmjs.org")
	p.Learn("Proxy.Golang.org.", addrs("198.51.100.10", "2001:db8::10"))
	p.Learn("registry.npmjs.org", addrs("198.51.100.20", "::ffff:198.51.100.21"))
	p.Learn("npmjs.org", addrs("198.51.100.30"))          // not below the wildcard: ignored
	p.Learn("evil.com", addrs("198.51.100.40"))           // no rule: ignored
	p.Learn("x.proxy.golang.org", addrs("198.51.100.41")) // not the exact name: ignored
	p.Learn("1.100.51.198.in-addr.arpa", addrs("198.51.100.42"))

	tests := []struct {
		dst   string
		allow bool
		rule  string
		name  string
	}{
		{"198.51.100.10:443", true, "proxy.golang.org:443", "proxy.golang.org"},
		{"[2001:db8::10]:443", true, "proxy.golang.org:443", "proxy.golang.org"},
		{"[::ffff:198.51.100.10]:443", true, "proxy.golang.org:443", "proxy.golang.org"},
		{"198.51.100.10:80", false, RuleNone, "proxy.golang.org"},
		{"[2001:db8::10]:80", false, RuleNone, "proxy.golang.org"},
		{"198.51.100.11:443", false, RuleNone, ""},
		{"[2001:db8::11]:443", false, RuleNone, ""},
		{"198.51.100.20:443", true, "*.npmjs.org", "registry.npmjs.org"},
		{"198.51.100.20:8080", true, "*.npmjs.org", "registry.npmjs.org"},
		{"198.51.100.21:443", true, "*.npmjs.org", "registry.npmjs.org"},
		{"198.51.100.30:443", false, RuleNone, ""},
		{"198.51.100.40:443", false, RuleNone, ""},
		{"198.51.100.41:443", false, RuleNone, ""},
		{"198.51.100.42:443", false, RuleNone, ""},
	}
	for _, tt := range tests {
		v := p.Dial("tcp", ap(tt.dst))
		if v.Allow != tt.allow || v.Rule != tt.rule || v.Name != tt.name {
			t.Errorf("Dial(%s) = %+v, want Allow %v Rule %q Name %q", tt.dst, v, tt.allow, tt.rule, tt.name)
		}
	}
}

func TestSharedAddressMatchesEachNamesRule(t *testing.T) {
	// One CDN address serves two allowed names on different ports.
	p := mustPolicy(t, false, "a.example.com:443", "b.example.com:80")
	p.Learn("a.example.com", addrs("198.51.100.50"))
	p.Learn("b.example.com", addrs("198.51.100.50"))
	for _, tt := range []struct {
		dst        string
		allow      bool
		rule, name string
	}{
		{"198.51.100.50:443", true, "a.example.com:443", "a.example.com"},
		{"198.51.100.50:80", true, "b.example.com:80", "b.example.com"},
		{"198.51.100.50:22", false, RuleNone, "b.example.com"}, // the latest name learned
	} {
		v := p.Dial("tcp", ap(tt.dst))
		if v.Allow != tt.allow || v.Rule != tt.rule || v.Name != tt.name {
			t.Errorf("Dial(%s) = %+v, want Allow %v Rule %q Name %q", tt.dst, v, tt.allow, tt.rule, tt.name)
		}
	}
}

func TestNameRuleDoesNotOpenClasses(t *testing.T) {
	// DNS rebinding: an allowed name that answers with an address in a
	// denied class stays denied, and the verdict says which name it was.
	for _, rule := range []string{"evil.example.com", "*.example.com", "evil.example.com:80"} {
		p := mustPolicy(t, false, rule)
		for _, c := range classDsts {
			dst := ap(c.dst)
			p.Learn("evil.example.com", []netip.Addr{dst.Addr()})
			dst = netip.AddrPortFrom(dst.Addr(), 80)
			v := p.Dial("tcp", dst)
			if v.Allow || v.Rule != c.class || v.Name != "evil.example.com" {
				t.Errorf("rule %q, evil.example.com learned as %s: Dial = %+v, want denied %q", rule, dst, v, c.class)
			}
		}
		p.Learn("evil.example.com", addrs("::ffff:10.0.0.5", "::ffff:169.254.169.254"))
		for _, dst := range []string{"10.0.0.5:80", "169.254.169.254:80", "[::ffff:10.0.0.5]:80"} {
			if v := p.Dial("tcp", ap(dst)); v.Allow {
				t.Errorf("rule %q: mapped rebinding to %s allowed: %+v", rule, dst, v)
			}
		}
	}
}

func TestLearnWithoutRulesNamesConnections(t *testing.T) {
	p := mustPolicy(t, false)
	p.Learn("Example.com.", addrs("198.51.100.1"))
	p.Learn("internal.corp", addrs("10.0.0.5", "::ffff:10.0.0.6"))
	for _, tt := range []struct {
		dst        string
		allow      bool
		rule, name string
	}{
		{"198.51.100.1:443", true, RuleDefault, "example.com"},
		{"10.0.0.5:443", false, ClassPrivate, "internal.corp"},
		{"10.0.0.6:443", false, ClassPrivate, "internal.corp"},
		{"198.51.100.2:443", true, RuleDefault, ""},
	} {
		v := p.Dial("tcp", ap(tt.dst))
		if v.Allow != tt.allow || v.Rule != tt.rule || v.Name != tt.name {
			t.Errorf("Dial(%s) = %+v, want Allow %v Rule %q Name %q", tt.dst, v, tt.allow, tt.rule, tt.name)
		}
	}
}

func TestLearnIgnoresJunk(t *testing.T) {
	p := mustPolicy(t, false)
	p.Learn("example.com", []netip.Addr{{}})
	p.Learn("", addrs("198.51.100.1"))
	p.Learn(".", addrs("198.51.100.2"))
	p.Learn(strings.Repeat("a", maxNameLen+1), addrs("198.51.100.3"))
	if n := p.learned.len(); n != 0 {
		t.Errorf("learned %d pairs from junk", n)
	}
}
