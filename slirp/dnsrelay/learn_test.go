package dnsrelay

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func answerWith(t *testing.T, qname string, rrs ...dnsmessage.Resource) []byte {
	t.Helper()
	req := &dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 1},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(qname), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	return reply(req, 0, rrs, false)
}

func TestLearnChain(t *testing.T) {
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	chaos := aRecord("q.example.", "203.0.113.9")
	chaos.Header.Class = dnsmessage.ClassCHAOS
	cases := []struct {
		name  string
		rrs   []dnsmessage.Resource
		names []string
		addrs []netip.Addr
	}{
		{"direct, case folded", []dnsmessage.Resource{aRecord("Q.Example.", "192.0.2.1")}, []string{"q.example"}, []netip.Addr{a1}},
		{"duplicates once", []dnsmessage.Resource{aRecord("q.example.", "192.0.2.1"), aRecord("q.example.", "192.0.2.1")}, []string{"q.example"}, []netip.Addr{a1}},
		{"not on the chain", []dnsmessage.Resource{aRecord("elsewhere.example.", "192.0.2.1")}, []string{"q.example"}, nil},
		{"other class", []dnsmessage.Resource{chaos}, []string{"q.example"}, nil},
		{"loop ends", []dnsmessage.Resource{
			cnameRecord("q.example.", "r.example."), cnameRecord("r.example.", "q.example."), aRecord("r.example.", "192.0.2.2"),
		}, []string{"q.example", "r.example"}, []netip.Addr{a2}},
		{"first CNAME wins", []dnsmessage.Resource{
			cnameRecord("q.example.", "r.example."), cnameRecord("q.example.", "s.example."),
			aRecord("r.example.", "192.0.2.1"), aRecord("s.example.", "192.0.2.2"),
		}, []string{"q.example", "r.example"}, []netip.Addr{a1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := learn(answerWith(t, "q.example.", tc.rrs...), "q.example")
			if !slices.Equal(l.names, tc.names) || !slices.Equal(l.addrs, tc.addrs) || l.rcode != 0 {
				t.Errorf("learned %+v, want names %v addrs %v", l, tc.names, tc.addrs)
			}
		})
	}
}

// A hostile upstream cannot make one answer teach the policy without bound.
func TestLearnBounded(t *testing.T) {
	var rrs []dnsmessage.Resource
	for i := range 30 {
		rrs = append(rrs, cnameRecord(fmt.Sprintf("c%d.example.", i), fmt.Sprintf("c%d.example.", i+1)))
	}
	for i := range 200 {
		rrs = append(rrs, aRecord("c3.example.", fmt.Sprintf("10.0.%d.%d", i/256, i%256)))
	}
	l := learn(answerWith(t, "c0.example.", rrs...), "c0.example")
	if len(l.names) != maxChain || len(l.addrs) != maxLearned {
		t.Errorf("%d names, %d addresses; want %d and %d", len(l.names), len(l.addrs), maxChain, maxLearned)
	}
}

// Records before a malformed one still count; an unparseable answer gives
// nothing.
func TestLearnMalformed(t *testing.T) {
	ans := answerWith(t, "q.example.", aRecord("q.example.", "192.0.2.1"), aRecord("q.example.", "192.0.2.2"))
	cut := ans[:len(ans)-2]
	l := learn(cut, "q.example")
	if !slices.Equal(l.addrs, []netip.Addr{netip.MustParseAddr("192.0.2.1")}) {
		t.Errorf("learned %v from a cut answer", l.addrs)
	}
	if l := learn(ans[:5], "q.example"); len(l.addrs) != 0 || l.rcode != dnsmessage.RCodeServerFailure {
		t.Errorf("learned %+v from a bare header", l)
	}
}

func TestNames(t *testing.T) {
	for typ, want := range map[dnsmessage.Type]string{
		dnsmessage.TypeA: "A", dnsmessage.TypeAAAA: "AAAA", dnsmessage.TypeHTTPS: "HTTPS",
		257: "CAA", 43: "DS", 999: "TYPE999",
	} {
		if got := typeString(typ); got != want {
			t.Errorf("typeString(%d) = %q, want %q", typ, got, want)
		}
	}
	for rc, want := range map[dnsmessage.RCode]string{0: "NOERROR", 3: "NXDOMAIN", 5: "REFUSED", 16: "BADVERS", 12: "RCODE12"} {
		if got := rcodeString(rc); got != want {
			t.Errorf("rcodeString(%d) = %q, want %q", rc, got, want)
		}
	}
	root := dnsmessage.MustNewName(".")
	if n, ok := nameString(root); n != "" || !ok {
		t.Errorf("root: %q %v", n, ok)
	}
	var odd dnsmessage.Name
	odd.Length = uint8(copy(odd.Data[:], "a b\\c\xffd.Ex."))
	if n, ok := nameString(odd); n != `a\032b\092c\255d.Ex` || ok {
		t.Errorf("odd name: %q %v", n, ok)
	}
}
