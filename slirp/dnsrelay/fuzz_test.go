package dnsrelay

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

type refuseAll struct{}

func (refuseAll) Question(string) (bool, string) { return false, "fuzz" }
func (refuseAll) Learn(string, []netip.Addr)     {}

// FuzzExchange feeds arbitrary messages to a relay that refuses every name:
// it must not panic, must never try to reach an upstream, and whatever it
// answers must be a response to the same ID that parses.
func FuzzExchange(f *testing.F) {
	f.Add(newQuery(1, "a.example.", dnsmessage.TypeA, false))
	f.Add(newQuery(2, "a.example.", dnsmessage.TypeAAAA, true))
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := &Relay{
			Upstreams: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")},
			Policy:    refuseAll{},
			Dial: func(context.Context, string, string) (net.Conn, error) {
				t.Errorf("dialed an upstream for %x", msg)
				return nil, errNoDial
			},
		}
		for _, proto := range []string{"udp", "tcp"} {
			ans, err := r.Exchange(context.Background(), msg, proto)
			if err != nil {
				if ans != nil {
					t.Fatalf("an error and an answer: %v", err)
				}
				continue
			}
			var m dnsmessage.Message
			if err := m.Unpack(ans); err != nil {
				t.Fatalf("answer %x does not parse: %v", ans, err)
			}
			if !m.Header.Response || m.Header.ID != uint16(msg[0])<<8|uint16(msg[1]) {
				t.Fatalf("answer header %+v for query %x", m.Header, msg[:4])
			}
			switch m.Header.RCode {
			case dnsmessage.RCodeRefused, dnsmessage.RCodeFormatError, dnsmessage.RCodeNotImplemented:
			default:
				t.Fatalf("rcode %v from a relay that refuses everything", m.Header.RCode)
			}
		}
	})
}
