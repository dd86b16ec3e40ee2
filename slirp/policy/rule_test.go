package policy

import (
	"net/netip"
	"strings"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestParseRuleForms(t *testing.T) {
	tests := []struct {
		in   string
		want Rule
	}{
		{"1.2.3.4", Rule{Prefix: pfx("1.2.3.4/32")}},
		{"1.2.3.4:443", Rule{Prefix: pfx("1.2.3.4/32"), Port: 443}},
		{"2001:db8::1", Rule{Prefix: pfx("2001:db8::1/128")}},
		{"[2001:db8::1]", Rule{Prefix: pfx("2001:db8::1/128")}},
		{"[2001:db8::1]:443", Rule{Prefix: pfx("2001:db8::1/128"), Port: 443}},
		{"10.0.0.0/8", Rule{Prefix: pfx("10.0.0.0/8")}},
		{"10.0.0.0/8:443", Rule{Prefix: pfx("10.0.0.0/8"), Port: 443}},
		{"0.0.0.0/0", Rule{Prefix: pfx("0.0.0.0/0")}},
		{"fd00::/8", Rule{Prefix: pfx("fd00::/8")}},
		{"[fd00::/8]:443", Rule{Prefix: pfx("fd00::/8"), Port: 443}},
		{"::/0", Rule{Prefix: pfx("::/0")}},
		{"[::/0]:53", Rule{Prefix: pfx("::/0"), Port: 53}},
		// Mapped addresses are matched unmapped, so rules are stored so too.
		{"::ffff:10.1.2.3", Rule{Prefix: pfx("10.1.2.3/32")}},
		{"[::ffff:10.0.0.0/104]:22", Rule{Prefix: pfx("10.0.0.0/8"), Port: 22}},
		{"proxy.golang.org", Rule{Domain: "proxy.golang.org"}},
		{"proxy.golang.org:443", Rule{Domain: "proxy.golang.org", Port: 443}},
		{"Proxy.GoLang.ORG.", Rule{Domain: "proxy.golang.org"}},
		{"proxy.golang.org.:443", Rule{Domain: "proxy.golang.org", Port: 443}},
		{"*.npmjs.org", Rule{Domain: "npmjs.org", Wildcard: true}},
		{"*.npmjs.org:443", Rule{Domain: "npmjs.org", Wildcard: true, Port: 443}},
		{"*.NPMJS.org.", Rule{Domain: "npmjs.org", Wildcard: true}},
		{"_acme-challenge.example.com", Rule{Domain: "_acme-challenge.example.com"}},
		{"localhost:8080", Rule{Domain: "localhost", Port: 8080}},
		{"example.com:65535", Rule{Domain: "example.com", Port: 65535}},
		{"1.2.3.4:1", Rule{Prefix: pfx("1.2.3.4/32"), Port: 1}},
		{strings.Repeat("a", 63) + ".com", Rule{Domain: strings.Repeat("a", 63) + ".com"}},
	}
	for _, tt := range tests {
		got, err := ParseRule(tt.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.in, err)
			continue
		}
		tt.want.Text = tt.in
		if got != tt.want {
			t.Errorf("ParseRule(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	long := strings.Repeat("a", 63) + "."
	tests := []struct {
		in, want string
	}{
		{"", "empty rule"},
		{" 1.2.3.4", "space"},
		{"1.2.3.4:0", "port 0"},
		{"1.2.3.4:65536", "out of range"},
		{"1.2.3.4:99999999999999999999999", "out of range"},
		{"1.2.3.4:http", "not a number"},
		{"1.2.3.4:+443", "not a number"},
		{"1.2.3.4:", "empty port"},
		{"example.com:0", "port 0"},
		{"[2001:db8::1]:70000", "out of range"},
		{"[2001:db8::1]:", "empty port"},
		{"[2001:db8::1", "missing ]"},
		{"[2001:db8::1]443", "unexpected"},
		{"[]:443", "empty brackets"},
		{"[1.2.3.4]:443", "brackets are for IPv6 only"},
		{"[10.0.0.0/8]:443", "brackets are for IPv6 only"},
		{"[2001:db8::zz]:443", "not a valid IPv6 address"},
		{"10.0.0.0/33", "more than 32"},
		{"fd00::/129", "more than 128"},
		{"10.0.0.0/", "not a number"},
		{"10.0.0.0/-1", "not a number"},
		{"10.0.0.0/x", "not a number"},
		{"10.0.0.256/8", "not an IP address"},
		{"10.0.0.1/8", "did you mean 10.0.0.0/8 (the network) or 10.0.0.1 (one address)?"},
		{"fd00::1/8", "did you mean fd00::/8 (the network)"},
		{"10.0.0.0/8:0", "port 0"},
		{"fd00::/8:443", "needs brackets: [fd00::/8]:443"},
		{"2001:db8::1::443", "not a valid IPv6 address"},
		{"fe80::1%eth0", "zone"},
		{"[fe80::1%eth0]:22", "zone"},
		{"fe80::%eth0/10", "zone"},
		{"0.0.0.0", "never a destination"},
		{"224.0.0.0/4", "never a destination"},
		{"::", "never a destination"},
		{"[ff02::1]:5353", "never a destination"},
		{"255.255.255.255", "never a destination"},
		{":443", "missing the host"},
		{"*", "wildcard needs a domain"},
		{"*.", "wildcard needs a domain"},
		{"*.:443", "wildcard needs a domain"},
		{"a.*.com", "whole leading label"},
		{"*.*.com", "whole leading label"},
		{"*a.com", "whole leading label"},
		{"a*.com:443", "whole leading label"},
		{"exa$mple.com", "invalid character"},
		{"example..com", "empty label"},
		{".example.com", "empty label"},
		{"example.com..", "empty label"},
		{".", "empty name"},
		{strings.Repeat("a", 64) + ".com", "more than 63"},
		{strings.Repeat(long, 4) + "com", "more than 253"},
		{"10.0.0.256", "neither a valid IP address nor a DNS name"},
		{"1.2.3", "neither a valid IP address nor a DNS name"},
		{"*.in-addr.arpa", "reverse-lookup"},
		{"4.3.2.1.in-addr.arpa", "reverse-lookup"},
		{"*.ip6.arpa:53", "reverse-lookup"},
	}
	for _, tt := range tests {
		_, err := ParseRule(tt.in)
		if err == nil {
			t.Errorf("ParseRule(%q) succeeded, want an error containing %q", tt.in, tt.want)
			continue
		}
		msg := err.Error()
		prefix := `--allow-net "` + tt.in + `": `
		if !strings.HasPrefix(msg, prefix) {
			t.Errorf("ParseRule(%q) error %q does not start with %q", tt.in, msg, prefix)
		}
		if !strings.Contains(msg, tt.want) {
			t.Errorf("ParseRule(%q) error %q does not contain %q", tt.in, msg, tt.want)
		}
	}
}

func TestParseRulesReportsEveryBadRule(t *testing.T) {
	rules, err := ParseRules([]string{"example.com", "10.0.0.0/33", "1.2.3.4", "a.*.com"})
	if err == nil {
		t.Fatalf("ParseRules succeeded with %v", rules)
	}
	for _, bad := range []string{`"10.0.0.0/33"`, `"a.*.com"`} {
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %s", err, bad)
		}
	}
	if strings.Contains(err.Error(), "example.com\"") {
		t.Errorf("error %q names a good rule", err)
	}

	rules, err = ParseRules([]string{"example.com:443", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Domain != "example.com" || rules[1].Prefix != pfx("10.0.0.0/8") {
		t.Errorf("ParseRules = %+v", rules)
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4", "1.2.3.4:443", "[2001:db8::1]:443", "2001:db8::1", "10.0.0.0/8",
		"10.0.0.0/8:443", "[fd00::/8]:443", "fd00::/8", "proxy.golang.org",
		"proxy.golang.org:443", "*.npmjs.org", "*.npmjs.org:443", "a.*.com", "",
		"[::ffff:10.0.0.0/104]:22", "Example.COM.", "10.0.0.1/8", "fe80::1%eth0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--allow-net ") {
				t.Fatalf("error %q does not name the flag", err)
			}
			return
		}
		if r.Text != s {
			t.Fatalf("Text = %q, want %q", r.Text, s)
		}
		if r.Prefix.IsValid() == (r.Domain != "") {
			t.Fatalf("%q: want exactly one of prefix and domain, got %+v", s, r)
		}
		if r.Prefix.IsValid() && (r.Prefix != r.Prefix.Masked() || r.Prefix.Addr().Is4In6() || r.Prefix.Addr().Zone() != "") {
			t.Fatalf("%q: prefix %s is not in normal form", s, r.Prefix)
		}
		if r.Domain != "" && (r.Domain != foldName(r.Domain) || checkName(r.Domain) != nil) {
			t.Fatalf("%q: domain %q is not in normal form", s, r.Domain)
		}
		again, err := ParseRule(r.Text)
		if err != nil || again != r {
			t.Fatalf("ParseRule(%q) = %+v, %v; first parse gave %+v", r.Text, again, err, r)
		}
		if r.normalized() != r {
			t.Fatalf("%q: normalized changes the parsed rule: %+v", s, r.normalized())
		}
	})
}
