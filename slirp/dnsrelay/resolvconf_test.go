package dnsrelay

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestUpstreams(t *testing.T) {
	conf := `# written by a network manager
; old-style comment
search example.org
nameserver 127.0.0.53
nameserver   192.0.2.53   # trailing comment
nameserver 2001:db8::53
nameserver fe80::1%eth0
#nameserver 192.0.2.99
nameserver
nameserver not-an-address
nameserver 192.0.2.300
nameserver 192.0.2.53
nameserver 192.0.2.55;comment right after the address, as the C library reads it
nameserver 192.0.2.56#likewise
options edns0 trust-ad
nameserverx 192.0.2.98
	nameserver 192.0.2.54
`
	want := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.53:53"),
		netip.MustParseAddrPort("192.0.2.53:53"),
		netip.MustParseAddrPort("[2001:db8::53]:53"),
		netip.MustParseAddrPort("[fe80::1%eth0]:53"),
		netip.MustParseAddrPort("192.0.2.55:53"),
		netip.MustParseAddrPort("192.0.2.56:53"),
		netip.MustParseAddrPort("192.0.2.54:53"),
	}
	if got := Upstreams([]byte(conf)); !slices.Equal(got, want) {
		t.Errorf("Upstreams = %v, want %v", got, want)
	}
	if got := Upstreams(nil); len(got) != 0 {
		t.Errorf("empty file: %v", got)
	}
}

func TestParseUpstream(t *testing.T) {
	good := map[string]string{
		"192.0.2.1":           "192.0.2.1:53",
		"192.0.2.1:5353":      "192.0.2.1:5353",
		"2001:db8::1":         "[2001:db8::1]:53",
		"::1:53":              "[::1:53]:53", // a whole IPv6 address, not a port
		"[2001:db8::1]:5353":  "[2001:db8::1]:5353",
		"[2001:db8::1]":       "[2001:db8::1]:53",
		"fe80::1%eth0":        "[fe80::1%eth0]:53",
		"[fe80::1%eth0]:5300": "[fe80::1%eth0]:5300",
	}
	for in, want := range good {
		got, err := ParseUpstream(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseUpstream(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "dns.example", "dns.example:53", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
		"192.0.2.1:domain", "192.0.2.1:-1", "[192.0.2.1]", "[2001:db8::1", "2001:db8::1]:53",
		"fe80::1:zz", "[2001:db8::1]:x", "1.2.3.4:53:53", " 192.0.2.1",
	} {
		_, err := ParseUpstream(in)
		if err == nil {
			t.Errorf("ParseUpstream(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("error %q does not name %q", err, in)
		}
	}
}
