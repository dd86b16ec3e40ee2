package dnsrelay

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

func newRelay(pol Policy, lg *logger, ups ...netip.AddrPort) *Relay {
	return &Relay{Upstreams: ups, Policy: pol, Log: lg.log, Timeout: 2 * time.Second}
}

// The answer reaches the sandbox exactly as the server sent it, and the
// query reaches the server exactly as the sandbox sent it, ID aside: OPT
// records, TTLs and AAAA survive.
func TestForwardRaw(t *testing.T) {
	for _, proto := range []string{"udp", "tcp"} {
		for _, typ := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
			t.Run(proto+"/"+typeString(typ), func(t *testing.T) {
				srv := startServer(t, authoritative)
				pol, lg := &testPolicy{}, &logger{}
				r := newRelay(pol, lg, srv.addr)
				q := newQuery(0x1234, "A.Example.", typ, true)
				ans, err := r.Exchange(context.Background(), q, proto)
				if err != nil {
					t.Fatal(err)
				}
				received, protos, sent := srv.snapshot()
				if len(received) != 1 || len(sent) != 1 {
					t.Fatalf("server got %d queries, sent %d replies", len(received), len(sent))
				}
				if protos[0] != proto {
					t.Errorf("query reached the server over %s, want %s", protos[0], proto)
				}
				if !bytes.Equal(received[0][2:], q[2:]) {
					t.Errorf("query changed on the way:\n got %x\nwant %x", received[0][2:], q[2:])
				}
				want := append([]byte{0x12, 0x34}, sent[0][2:]...)
				if !bytes.Equal(ans, want) {
					t.Errorf("answer changed on the way:\n got %x\nwant %x", ans, want)
				}
				m := parse(t, ans)
				if !hasOPT(m) {
					t.Error("OPT record lost")
				}

				wantAddrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}
				if typ == dnsmessage.TypeAAAA {
					wantAddrs = []netip.Addr{netip.MustParseAddr("2001:db8::1")}
				}
				e := lg.only(t)
				if e.Proto != proto || e.Name != "a.example" || e.Type != typeString(typ) || !e.Allow ||
					e.Rule != "test allow" || e.Rcode != "NOERROR" || e.Upstream != srv.addr.String() ||
					!slices.Equal(e.Answers, wantAddrs) || e.Time.IsZero() || e.Duration <= 0 {
					t.Errorf("entry %+v", e)
				}
				if got := pol.learnedCopy(); !slices.Equal(got["a.example"], wantAddrs) || len(got) != 1 {
					t.Errorf("learned %v, want a.example %v", got, wantAddrs)
				}
			})
		}
	}
}

// Addresses are learned along the CNAME chain only, under every name on it.
func TestCNAMEChainLearning(t *testing.T) {
	srv := startServer(t, authoritative)
	pol, lg := &testPolicy{}, &logger{}
	r := newRelay(pol, lg, srv.addr)
	if _, err := r.Exchange(context.Background(), newQuery(7, "www.example.", dnsmessage.TypeA, false), "udp"); err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")}
	got := pol.learnedCopy()
	for _, name := range []string{"www.example", "cdn.example", "edge.example"} {
		if !slices.Equal(got[name], want) {
			t.Errorf("learned under %s: %v, want %v", name, got[name], want)
		}
	}
	if len(got) != 3 {
		t.Errorf("learned %v: other.example is not on the chain", got)
	}
	if e := lg.only(t); !slices.Equal(e.Answers, want) {
		t.Errorf("entry answers %v, want %v", e.Answers, want)
	}
}

func TestNXDOMAINRelayed(t *testing.T) {
	srv := startServer(t, authoritative)
	pol, lg := &testPolicy{}, &logger{}
	r := newRelay(pol, lg, srv.addr)
	ans, err := r.Exchange(context.Background(), newQuery(9, "missing.example.", dnsmessage.TypeA, false), "udp")
	if err != nil {
		t.Fatal(err)
	}
	if m := parse(t, ans); m.Header.RCode != dnsmessage.RCodeNameError || !m.Header.Authoritative {
		t.Errorf("header %+v, want the server's NXDOMAIN", m.Header)
	}
	if e := lg.only(t); e.Rcode != "NXDOMAIN" || e.Upstream == "" || len(e.Answers) != 0 {
		t.Errorf("entry %+v", e)
	}
	if len(pol.learnedCopy()) != 0 {
		t.Error("learned from NXDOMAIN")
	}
}

// A refused name is answered locally and never reaches any resolver.
func TestRefusedLocally(t *testing.T) {
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			srv := startServer(t, authoritative)
			pol, lg := &testPolicy{}, &logger{}
			r := newRelay(pol, lg, srv.addr)
			q := newQuery(0xbeef, "secret-data.Denied.Example.", dnsmessage.TypeTXT, true)
			ans, err := r.Exchange(context.Background(), q, proto)
			if err != nil {
				t.Fatal(err)
			}
			m := parse(t, ans)
			h := m.Header
			if h.ID != 0xbeef || !h.Response || !h.RecursionAvailable || !h.RecursionDesired || h.RCode != dnsmessage.RCodeRefused {
				t.Errorf("header %+v", h)
			}
			if len(m.Questions) != 1 || m.Questions[0].Name.String() != "secret-data.Denied.Example." || m.Questions[0].Type != dnsmessage.TypeTXT {
				t.Errorf("questions %v, want the query's echoed", m.Questions)
			}
			if !hasOPT(m) || len(m.Answers) != 0 {
				t.Errorf("want an OPT record and no answers: %+v", m)
			}
			time.Sleep(50 * time.Millisecond) // a stray query would have arrived by now
			if n := srv.questions.Load(); n != 0 {
				t.Fatalf("server received %d questions for a refused name", n)
			}
			if e := lg.only(t); e.Allow || e.Rule != "test deny" || e.Rcode != "REFUSED" || e.Upstream != "" ||
				e.Name != "secret-data.denied.example" || e.Type != "TXT" {
				t.Errorf("entry %+v", e)
			}
			if pol.asked[0] != "secret-data.denied.example" {
				t.Errorf("policy asked about %q", pol.asked)
			}
		})
	}
}

// Without a policy nothing is relayed, and names the policy could misread
// are refused before it is asked.
func TestRefusedWithoutAsking(t *testing.T) {
	srv := startServer(t, authoritative)
	noDial := func(context.Context, string, string) (net.Conn, error) {
		t.Error("dialed an upstream")
		return nil, errNoDial
	}

	lg := &logger{}
	r := &Relay{Upstreams: []netip.AddrPort{srv.addr}, Log: lg.log, Dial: noDial}
	ans, err := r.Exchange(context.Background(), newQuery(1, "a.example.", dnsmessage.TypeA, false), "udp")
	if err != nil {
		t.Fatal(err)
	}
	if parse(t, ans).Header.RCode != dnsmessage.RCodeRefused || lg.only(t).Rule != RuleNoPolicy {
		t.Errorf("nil policy: %+v", lg.only(t))
	}

	pol, lg := &testPolicy{}, &logger{}
	r = &Relay{Upstreams: []netip.AddrPort{srv.addr}, Policy: pol, Log: lg.log, Dial: noDial}
	name := dnsmessage.Name{Length: 12}
	copy(name.Data[:], "a\x00b.example.")
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 2, RecursionDesired: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	q, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	ans, err = r.Exchange(context.Background(), q, "udp")
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, ans)
	if m.Header.RCode != dnsmessage.RCodeRefused || len(m.Questions) != 1 {
		t.Errorf("binary name: %+v", m)
	}
	if e := lg.only(t); e.Rule != RuleInvalidName || e.Name != `a\000b.example` || e.Allow {
		t.Errorf("entry %+v", e)
	}
	if len(pol.asked) != 0 {
		t.Errorf("policy asked about %q", pol.asked)
	}
}

func silent(*dnsmessage.Message, string) [][]byte { return nil }

// A resolver that does not answer costs one timeout, then the next is used;
// one that refuses the connection costs nothing.
func TestUpstreamFailover(t *testing.T) {
	good := startServer(t, authoritative)
	quiet := startServer(t, silent)
	for _, tc := range []struct {
		name     string
		first    netip.AddrPort
		min, max time.Duration
	}{
		{"silent", quiet.addr, 300 * time.Millisecond, 1500 * time.Millisecond},
		{"unreachable", closedPort(t), 0, time.Second},
	} {
		for _, proto := range []string{"udp", "tcp"} {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				pol, lg := &testPolicy{}, &logger{}
				r := newRelay(pol, lg, tc.first, good.addr)
				r.Timeout = 300 * time.Millisecond
				if tc.min == 0 {
					r.Timeout = 5 * time.Second
				}
				start := time.Now()
				ans, err := r.Exchange(context.Background(), newQuery(3, "a.example.", dnsmessage.TypeA, false), proto)
				took := time.Since(start)
				if err != nil {
					t.Fatal(err)
				}
				if parse(t, ans).Header.RCode != dnsmessage.RCodeSuccess {
					t.Error("no answer from the second upstream")
				}
				if e := lg.only(t); e.Upstream != good.addr.String() {
					t.Errorf("answered by %q, want %s", e.Upstream, good.addr)
				}
				if took < tc.min || took > tc.max {
					t.Errorf("took %v, want %v to %v", took, tc.min, tc.max)
				}
			})
		}
	}
}

func TestSERVFAIL(t *testing.T) {
	quiet := startServer(t, silent)
	for _, tc := range []struct {
		name string
		ups  []netip.AddrPort
	}{
		{"silent", []netip.AddrPort{quiet.addr}},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol, lg := &testPolicy{}, &logger{}
			r := newRelay(pol, lg, tc.ups...)
			r.Timeout = 300 * time.Millisecond
			start := time.Now()
			ans, err := r.Exchange(context.Background(), newQuery(0x4242, "a.example.", dnsmessage.TypeAAAA, true), "udp")
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v with a 300ms timeout", took)
			}
			if err != nil {
				t.Fatal(err)
			}
			m := parse(t, ans)
			if m.Header.ID != 0x4242 || m.Header.RCode != dnsmessage.RCodeServerFailure || len(m.Questions) != 1 || !hasOPT(m) {
				t.Errorf("answer %+v", m)
			}
			if e := lg.only(t); e.Rcode != "SERVFAIL" || !e.Allow || e.Upstream != "" {
				t.Errorf("entry %+v", e)
			}
		})
	}
}

// Replies with the wrong ID or question are skipped; the right one that
// follows them is taken.
func TestSpoofedReplyIgnored(t *testing.T) {
	forged := []netip.Addr{netip.MustParseAddr("203.0.113.66")}
	srv := startServer(t, func(req *dnsmessage.Message, proto string) [][]byte {
		evil := []dnsmessage.Resource{aRecord(req.Questions[0].Name.String(), forged[0].String())}
		wrongID := *req
		wrongID.Header.ID++
		wrongQ := *req
		wrongQ.Questions = []dnsmessage.Question{{Name: dnsmessage.MustNewName("b.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}
		wrongType := *req
		wrongType.Questions = []dnsmessage.Question{{Name: req.Questions[0].Name, Type: dnsmessage.TypeAAAA, Class: dnsmessage.ClassINET}}
		return [][]byte{
			reply(&wrongID, 0, evil, false),
			reply(&wrongQ, 0, evil, false),
			reply(&wrongType, 0, evil, false),
			authoritative(req, proto)[0],
		}
	})
	pol, lg := &testPolicy{}, &logger{}
	r := newRelay(pol, lg, srv.addr)
	ans, err := r.Exchange(context.Background(), newQuery(5, "a.example.", dnsmessage.TypeA, false), "udp")
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, ans)
	if len(m.Answers) != 2 || m.Answers[0].Body.(*dnsmessage.AResource).A != [4]byte{192, 0, 2, 1} {
		t.Errorf("took a forged reply: %+v", m.Answers)
	}
	if got := pol.learnedCopy()["a.example"]; slices.Contains(got, forged[0]) || len(got) != 2 {
		t.Errorf("learned %v", got)
	}

	// Over TCP the connection is the relay's own: the first reply is the
	// answer, and a wrong one fails that upstream.
	lg = &logger{}
	r = newRelay(pol, lg, srv.addr)
	ans, err = r.Exchange(context.Background(), newQuery(6, "a.example.", dnsmessage.TypeA, false), "tcp")
	if err != nil {
		t.Fatal(err)
	}
	if m := parse(t, ans); m.Header.RCode != dnsmessage.RCodeServerFailure || len(m.Answers) != 0 {
		t.Errorf("took a forged reply over TCP: %+v", m)
	}
}

// A truncated UDP answer goes to the sandbox as it is, so that it retries
// over TCP.
func TestTruncatedPassedThrough(t *testing.T) {
	srv := startServer(t, func(req *dnsmessage.Message, proto string) [][]byte {
		if proto == "tcp" {
			return authoritative(req, proto)
		}
		b := reply(req, 0, nil, true)
		b[2] |= 0x02 // TC
		return [][]byte{b}
	})
	pol, lg := &testPolicy{}, &logger{}
	r := newRelay(pol, lg, srv.addr)
	ans, err := r.Exchange(context.Background(), newQuery(8, "a.example.", dnsmessage.TypeA, true), "udp")
	if err != nil {
		t.Fatal(err)
	}
	_, _, sent := srv.snapshot()
	want := append([]byte{0, 8}, sent[0][2:]...)
	if !bytes.Equal(ans, want) || !parse(t, ans).Header.Truncated {
		t.Errorf("answer %x, want the truncated %x", ans, want)
	}
	ans, err = r.Exchange(context.Background(), newQuery(8, "a.example.", dnsmessage.TypeA, true), "tcp")
	if err != nil {
		t.Fatal(err)
	}
	if m := parse(t, ans); m.Header.Truncated || len(m.Answers) != 2 {
		t.Errorf("TCP retry: %+v", m)
	}
}

// The EDNS extended rcode is part of what the log reports.
func TestExtendedRcodeLogged(t *testing.T) {
	srv := startServer(t, func(req *dnsmessage.Message, proto string) [][]byte {
		return [][]byte{reply(req, 16, nil, true)} // BADVERS: 1 in OPT, 0 in the header
	})
	lg := &logger{}
	r := newRelay(&testPolicy{}, lg, srv.addr)
	if _, err := r.Exchange(context.Background(), newQuery(1, "a.example.", dnsmessage.TypeA, true), "udp"); err != nil {
		t.Fatal(err)
	}
	if e := lg.only(t); e.Rcode != "BADVERS" {
		t.Errorf("rcode %q, want BADVERS", e.Rcode)
	}
}
