package slirp

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// resolver is a DNS server on 127.0.0.1 that answers every A question
// with addr, and counts the questions it got.
type resolver struct {
	addr      netip.AddrPort
	questions atomic.Int64
}

func startResolver(t testing.TB, answer netip.Addr) *resolver {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	r := &resolver{addr: netip.MustParseAddrPort(pc.LocalAddr().String())}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			r.questions.Add(1)
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionAvailable: true})
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: answer.As4()})
			out, _ := b.Finish()
			pc.WriteTo(out, from)
		}
	}()
	return r
}

// ask sends one A question for name to 10.0.2.3 from inside.
func (tn *testNet) ask(name string) (dnsmessage.RCode, []netip.Addr) {
	tn.t.Helper()
	c := tn.dialUDP("10.0.2.3:53")
	defer c.Close()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 4242, RecursionDesired: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name + "."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	q, _ := b.Finish()
	c.Write(q)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		tn.t.Fatalf("DNS %s: %v", name, err)
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf[:n]); err != nil {
		tn.t.Fatal(err)
	}
	var addrs []netip.Addr
	for _, a := range m.Answers {
		if r, ok := a.Body.(*dnsmessage.AResource); ok {
			addrs = append(addrs, netip.AddrFrom4(r.A))
		}
	}
	return m.RCode, addrs
}

// A name rule: its questions are relayed, the answer's address becomes
// reachable on the rule's port, and a name outside the rules is refused
// without reaching the resolver.
func TestDNSNameRule(t *testing.T) {
	answer := netip.MustParseAddr("203.0.113.44")
	res := startResolver(t, answer)
	tn := newTestNet(t, policy.Options{Rules: mustRules(t, "*.example.test:443")}, Config{Upstreams: []netip.AddrPort{res.addr}})
	tn.dialer.route["tcp 203.0.113.44:443"] = tcpEcho(t)

	if _, err := tn.dialTCP("203.0.113.44:443"); err == nil {
		t.Error("connected before the name was resolved")
	}
	rcode, addrs := tn.ask("pkg.example.test")
	if rcode != dnsmessage.RCodeSuccess || len(addrs) != 1 || addrs[0] != answer {
		t.Fatalf("pkg.example.test: %v %v", rcode, addrs)
	}
	c, err := tn.dialTCP("203.0.113.44:443")
	if err != nil {
		t.Fatalf("after resolving: %v", err)
	}
	c.Close()
	if _, err := tn.dialTCP("203.0.113.44:80"); err == nil {
		t.Error("port 80 allowed by a :443 rule")
	}

	before := res.questions.Load()
	rcode, _ = tn.ask("exfiltrate.attacker.test")
	if rcode != dnsmessage.RCodeRefused {
		t.Errorf("a name outside the rules: %v, want REFUSED", rcode)
	}
	if got := res.questions.Load(); got != before {
		t.Errorf("the refused name reached the resolver (%d questions, want %d)", got, before)
	}
	waitFor(t, func() bool { s := tn.log.Summary(); return s.DNSQuestions == 2 && s.DNSRefused == 1 })
}
