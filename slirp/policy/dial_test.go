package policy

import (
	"net/netip"
	"testing"
)

// The host of these tests: loopback, a private address behind NAT, a public
// address, a public IPv6 address and a link-local one. Documentation ranges
// stand for public addresses; nothing here sends a packet.
var testHostAddrs = []netip.Addr{
	netip.MustParseAddr("127.0.0.1"),
	netip.MustParseAddr("::1"),
	netip.MustParseAddr("10.0.2.15"),
	netip.MustParseAddr("203.0.113.7"),
	netip.MustParseAddr("2001:db8:1::7"),
	netip.MustParseAddr("fe80::1234"),
	netip.MustParseAddr("::ffff:198.51.100.9"), // mapped, as a careless caller might pass it
}

// classDsts are destinations in each denied class, IPv4 and IPv6, with the
// class a denial must name when no rule opens anything.
var classDsts = []struct {
	dst   string
	class string
}{
	{"169.254.169.254:80", ClassMetadata},
	{"[fd00:ec2::254]:80", ClassMetadata},
	{"168.63.129.16:80", ClassMetadata},
	{"127.0.0.1:8080", ClassHostLoopback},
	{"127.9.9.9:22", ClassHostLoopback},
	{"[::1]:8080", ClassHostLoopback},
	{"169.254.1.1:80", ClassLinkLocal},
	{"[fe80::1]:80", ClassLinkLocal},
	{"[fe80::1234]:80", ClassLinkLocal}, // a host address too; link-local comes first
	{"10.0.0.5:5432", ClassPrivate},
	{"10.0.2.15:22", ClassPrivate}, // a host address too; private comes first
	{"172.16.0.1:80", ClassPrivate},
	{"172.31.255.255:80", ClassPrivate},
	{"192.168.1.1:80", ClassPrivate},
	{"100.64.0.1:80", ClassPrivate},
	{"100.127.255.254:80", ClassPrivate},
	{"[fc00::1]:80", ClassPrivate},
	{"[fd12:3456::1]:80", ClassPrivate},
	{"203.0.113.7:22", ClassHostAddress},
	{"[2001:db8:1::7]:22", ClassHostAddress},
	{"198.51.100.9:22", ClassHostAddress},
	{"0.0.0.0:80", ClassInvalid},
	{"0.1.2.3:80", ClassInvalid},
	{"[::]:80", ClassInvalid},
	{"224.0.0.1:5353", ClassInvalid},
	{"239.255.255.250:1900", ClassInvalid},
	{"[ff02::1]:5353", ClassInvalid},
	{"[ff0e::1]:80", ClassInvalid},
	{"255.255.255.255:67", ClassInvalid},
}

// publicDsts are in no class, several of them just outside one.
var publicDsts = []string{
	"198.51.100.7:443",
	"[2001:db8::1]:443",
	"11.0.0.1:80",
	"172.32.0.1:80",
	"172.15.255.255:80",
	"100.128.0.1:80",
	"169.253.255.255:80",
	"128.0.0.1:80",
	"[fe00::1]:80",
	"[fec0::1]:80",
	"[::2]:80",
	"223.255.255.255:80",
	"203.0.113.8:22",
	"[2001:db8:1::8]:22",
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func mustPolicy(t *testing.T, loopback bool, rules ...string) *Policy {
	t.Helper()
	rs, err := ParseRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Rules: rs, AllowHostLoopback: loopback, HostAddrs: testHostAddrs})
}

func checkDial(t *testing.T, p *Policy, network, dst string, allow bool, rule string) {
	t.Helper()
	v := p.Dial(network, ap(dst))
	if v.Allow != allow || v.Rule != rule {
		t.Errorf("Dial(%s, %s) = %+v, want Allow %v Rule %q", network, dst, v, allow, rule)
	}
}

func TestDialClassesDenied(t *testing.T) {
	// Rules that match everything, or nothing of the classes, change
	// nothing for them: each class is denied and named.
	for _, rules := range [][]string{nil, {"0.0.0.0/0", "::/0"}, {"example.com"}, {"*.example.com:443"}} {
		p := mustPolicy(t, false, rules...)
		for _, c := range classDsts {
			for _, network := range []string{"tcp", "udp"} {
				checkDial(t, p, network, c.dst, false, c.class)
			}
		}
	}
}

func TestDialPublic(t *testing.T) {
	tests := []struct {
		rules []string
		rule4 string // the verdict for IPv4 destinations
		rule6 string
		allow bool
	}{
		{nil, RuleDefault, RuleDefault, true},
		{[]string{"0.0.0.0/0", "::/0"}, "0.0.0.0/0", "::/0", true},
		{[]string{"::/0", "0.0.0.0/0"}, "0.0.0.0/0", "::/0", true},
		{[]string{"example.com"}, RuleNone, RuleNone, false},
		{[]string{"192.0.2.0/24", "[2001:db8:ffff::/48]:443"}, RuleNone, RuleNone, false},
	}
	for _, tt := range tests {
		p := mustPolicy(t, false, tt.rules...)
		for _, dst := range publicDsts {
			want := tt.rule4
			if ap(dst).Addr().Is6() {
				want = tt.rule6
			}
			checkDial(t, p, "tcp", dst, tt.allow, want)
		}
	}
}

func TestDialAllowHostLoopback(t *testing.T) {
	for _, rules := range [][]string{nil, {"example.com:443"}, {"0.0.0.0/0"}} {
		p := mustPolicy(t, true, rules...)
		for _, c := range classDsts {
			if c.class == ClassHostLoopback {
				checkDial(t, p, "tcp", c.dst, true, RuleAllowHostLoopback)
				checkDial(t, p, "udp", c.dst, true, RuleAllowHostLoopback)
				continue
			}
			// The flag opens loopback and nothing else: not the host's
			// other addresses, through which the same services answer.
			checkDial(t, p, "tcp", c.dst, false, c.class)
		}
		checkDial(t, p, "tcp", "[::ffff:127.0.0.1]:8080", true, RuleAllowHostLoopback)
	}
	p := mustPolicy(t, true, "example.com:443")
	checkDial(t, p, "tcp", "198.51.100.7:443", false, RuleNone)
	// A rule for a loopback port names itself rather than the flag.
	p = mustPolicy(t, true, "127.0.0.1:8080")
	checkDial(t, p, "tcp", "127.0.0.1:8080", true, "127.0.0.1:8080")
	checkDial(t, p, "tcp", "127.0.0.1:22", true, RuleAllowHostLoopback)
}

func TestDialRuleOpensClass(t *testing.T) {
	tests := []struct {
		rules []string
		dst   string
		allow bool
		rule  string
	}{
		{[]string{"10.0.0.0/8"}, "10.1.2.3:5432", true, "10.0.0.0/8"},
		{[]string{"10.0.0.0/8"}, "11.0.0.1:80", false, RuleNone},
		{[]string{"10.0.0.0/8"}, "192.168.1.1:80", false, ClassPrivate},
		{[]string{"10.1.2.3:5432"}, "10.1.2.3:5432", true, "10.1.2.3:5432"},
		{[]string{"10.1.2.3:5432"}, "10.1.2.3:5433", false, ClassPrivate},
		{[]string{"10.1.2.3:5432"}, "10.1.2.4:5432", false, ClassPrivate},
		{[]string{"172.16.0.0/12:443"}, "172.20.0.1:443", true, "172.16.0.0/12:443"},
		{[]string{"192.168.0.0/16"}, "192.168.1.1:80", true, "192.168.0.0/16"},
		{[]string{"100.64.0.0/10"}, "100.64.0.1:80", true, "100.64.0.0/10"},
		{[]string{"fc00::/7"}, "[fd12:3456::1]:80", true, "fc00::/7"},
		{[]string{"[fd00::/8]:443"}, "[fd12::1]:443", true, "[fd00::/8]:443"},
		{[]string{"[fd00::/8]:443"}, "[fd12::1]:80", false, ClassPrivate},
		{[]string{"[fd00::/8]:443"}, "[fc00::1]:443", false, ClassPrivate},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:8080", true, "127.0.0.1:8080"},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:22", false, ClassHostLoopback},
		{[]string{"127.0.0.0/8"}, "127.9.9.9:22", true, "127.0.0.0/8"},
		{[]string{"[::1]:8080"}, "[::1]:8080", true, "[::1]:8080"},
		{[]string{"[::1]:8080"}, "127.0.0.1:8080", false, ClassHostLoopback},
		{[]string{"169.254.0.0/16"}, "169.254.1.1:80", true, "169.254.0.0/16"},
		{[]string{"fe80::/10"}, "[fe80::1]:80", true, "fe80::/10"},
		// Opening link-local does not open the metadata service inside it.
		{[]string{"169.254.0.0/16"}, "169.254.169.254:80", false, ClassMetadata},
		{[]string{"169.254.169.254"}, "169.254.169.254:80", true, "169.254.169.254"},
		{[]string{"169.254.169.254"}, "169.254.1.1:80", false, ClassLinkLocal},
		{[]string{"fc00::/7"}, "[fd00:ec2::254]:80", false, ClassMetadata},
		{[]string{"fd00:ec2::254"}, "[fd00:ec2::254]:80", true, "fd00:ec2::254"},
		{[]string{"168.63.129.16:80"}, "168.63.129.16:80", true, "168.63.129.16:80"},
		{[]string{"168.63.0.0/16"}, "168.63.129.16:80", false, ClassMetadata},
		// A host address is opened only by a rule for exactly that address,
		// also when it is in another class that a rule opened.
		{[]string{"203.0.113.7"}, "203.0.113.7:22", true, "203.0.113.7"},
		{[]string{"203.0.113.0/24"}, "203.0.113.7:22", false, ClassHostAddress},
		{[]string{"203.0.113.0/24"}, "203.0.113.8:22", true, "203.0.113.0/24"},
		{[]string{"[2001:db8:1::7]:22"}, "[2001:db8:1::7]:22", true, "[2001:db8:1::7]:22"},
		{[]string{"2001:db8:1::/48"}, "[2001:db8:1::7]:22", false, ClassHostAddress},
		{[]string{"10.0.0.0/8"}, "10.0.2.15:22", false, ClassHostAddress},
		{[]string{"10.0.2.15:22"}, "10.0.2.15:22", true, "10.0.2.15:22"},
		{[]string{"fe80::/10"}, "[fe80::1234]:80", false, ClassHostAddress},
		{[]string{"fe80::1234"}, "[fe80::1234]:80", true, "fe80::1234"},
		// Broad rules open nothing.
		{[]string{"0.0.0.0/0"}, "10.1.2.3:5432", false, ClassPrivate},
		{[]string{"0.0.0.0/1"}, "10.1.2.3:5432", false, ClassPrivate},
		{[]string{"::/0"}, "[fd12::1]:80", false, ClassPrivate},
		{[]string{"::/0"}, "[::1]:80", false, ClassHostLoopback},
		{[]string{"::/0"}, "[fe80::1]:80", false, ClassLinkLocal},
		{[]string{"::/0"}, "[ff02::1]:80", false, ClassInvalid},
		{[]string{"0.0.0.0/0"}, "127.0.0.1:80", false, ClassHostLoopback},
		{[]string{"0.0.0.0/0"}, "0.0.0.0:80", false, ClassInvalid},
		// The first matching rule that opens the classes decides.
		{[]string{"0.0.0.0/0", "10.0.0.0/8:5432"}, "10.1.2.3:5432", true, "10.0.0.0/8:5432"},
		{[]string{"0.0.0.0/0", "10.0.0.0/8:5432"}, "198.51.100.7:443", true, "0.0.0.0/0"},
		{[]string{"10.0.0.0/8", "10.1.0.0/16"}, "10.1.2.3:80", true, "10.0.0.0/8"},
		{[]string{"10.1.0.0/16", "10.0.0.0/8"}, "10.1.2.3:80", true, "10.1.0.0/16"},
		{[]string{"1.2.3.4:443", "1.2.3.4"}, "1.2.3.4:80", true, "1.2.3.4"},
		{[]string{"1.2.3.4:443"}, "1.2.3.4:80", false, RuleNone},
		// Families never cross.
		{[]string{"::/0"}, "198.51.100.7:443", false, RuleNone},
		{[]string{"0.0.0.0/0"}, "[2001:db8::1]:443", false, RuleNone},
	}
	for _, tt := range tests {
		p := mustPolicy(t, false, tt.rules...)
		checkDial(t, p, "tcp", tt.dst, tt.allow, tt.rule)
	}
}

func TestDialMappedAndZoned(t *testing.T) {
	p := mustPolicy(t, false)
	for _, tt := range []struct{ dst, class string }{
		{"[::ffff:169.254.169.254]:80", ClassMetadata},
		{"[::ffff:127.0.0.1]:80", ClassHostLoopback},
		{"[::ffff:169.254.1.1]:80", ClassLinkLocal},
		{"[::ffff:10.0.0.1]:80", ClassPrivate},
		{"[::ffff:203.0.113.7]:80", ClassHostAddress},
		{"[::ffff:0.0.0.0]:80", ClassInvalid},
		{"[::ffff:224.0.0.1]:80", ClassInvalid},
		{"[fe80::1%eth0]:80", ClassLinkLocal},
		{"[fe80::1234%eth0]:80", ClassLinkLocal},
		{"[::1%lo]:80", ClassHostLoopback},
	} {
		checkDial(t, p, "tcp", tt.dst, false, tt.class)
	}
	checkDial(t, p, "tcp", "[::ffff:198.51.100.7]:443", true, RuleDefault)

	p = mustPolicy(t, false, "10.0.0.0/8", "::ffff:192.168.1.1", "fe80::/10", "203.0.113.7")
	checkDial(t, p, "tcp", "[::ffff:10.0.0.1]:80", true, "10.0.0.0/8")
	checkDial(t, p, "tcp", "192.168.1.1:80", true, "::ffff:192.168.1.1")
	checkDial(t, p, "tcp", "[::ffff:192.168.1.1]:80", true, "::ffff:192.168.1.1")
	checkDial(t, p, "tcp", "[fe80::1%eth0]:80", true, "fe80::/10")
	checkDial(t, p, "tcp", "[::ffff:203.0.113.7]:22", true, "203.0.113.7")
	checkDial(t, p, "tcp", "[::ffff:198.51.100.7]:443", false, RuleNone)
}

func TestDialInvalidRequest(t *testing.T) {
	for _, p := range []*Policy{mustPolicy(t, false), mustPolicy(t, true, "0.0.0.0/0", "::/0")} {
		checkDial(t, p, "tcp", "198.51.100.7:0", false, ClassInvalid)
		checkDial(t, p, "udp", "[2001:db8::1]:0", false, ClassInvalid)
		checkDial(t, p, "sctp", "198.51.100.7:443", false, ClassInvalid)
		checkDial(t, p, "tcp4", "198.51.100.7:443", false, ClassInvalid)
		checkDial(t, p, "", "198.51.100.7:443", false, ClassInvalid)
		if v := p.Dial("tcp", netip.AddrPort{}); v.Allow || v.Rule != ClassInvalid {
			t.Errorf("Dial of the zero AddrPort = %+v", v)
		}
	}
}

func TestHandBuiltRulesAreNormalized(t *testing.T) {
	p := New(Options{Rules: []Rule{
		{Text: "mapped", Prefix: pfx("::ffff:10.0.0.0/104")},
		{Text: "hostbits", Prefix: netip.PrefixFrom(netip.MustParseAddr("198.51.100.77"), 24)},
		{Text: "name", Domain: "Example.COM."},
	}})
	checkDial(t, p, "tcp", "10.9.9.9:80", true, "mapped")
	checkDial(t, p, "tcp", "198.51.100.1:80", true, "hostbits")
	if v := p.Question("example.com"); !v.Allow || v.Rule != "name" {
		t.Errorf("Question(example.com) = %+v", v)
	}
}

func TestRestricted(t *testing.T) {
	if mustPolicy(t, true).Restricted() {
		t.Error("no rules: Restricted() = true")
	}
	if !mustPolicy(t, false, "example.com").Restricted() {
		t.Error("one rule: Restricted() = false")
	}
}
