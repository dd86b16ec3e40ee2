package dnsrelay

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Messages that are not queries, or do not parse, are dropped: no answer, no
// log entry, nothing sent.
func TestMalformedDropped(t *testing.T) {
	good := newQuery(0x0101, "a.example.", dnsmessage.TypeA, true)
	response := append([]byte(nil), good...)
	response[2] |= 0x80
	dotted := newQuery(0x0101, "abc.example.", dnsmessage.TypeA, false)
	dotted[13+1] = '.' // "abc" becomes "a.c", one label with a dot in it
	missingOPT := append([]byte(nil), good[:len(good)-11-12]...)
	badOPTLen := append([]byte(nil), good...)
	badOPTLen[len(badOPTLen)-13] = 0xff // the OPT's RDLENGTH overruns the message
	twoBroken := newQuery(0x0101, "a.example.", dnsmessage.TypeA, false)
	twoBroken[5] = 2 // QDCOUNT 2, but only one question follows
	cases := map[string][]byte{
		"empty":            nil,
		"short header":     good[:11],
		"no question":      good[:12],
		"cut question":     good[:20],
		"response":         response,
		"dot in label":     dotted,
		"missing OPT":      missingOPT,
		"bad OPT length":   badOPTLen,
		"second question":  twoBroken,
		"over 65535 bytes": append(append([]byte(nil), good...), make([]byte, 65536)...),
	}
	srv := startServer(t, authoritative)
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			lg := &logger{}
			r := newRelay(&testPolicy{}, lg, srv.addr)
			for _, proto := range []string{"udp", "tcp"} {
				ans, err := r.Exchange(context.Background(), msg, proto)
				if err == nil || ans != nil {
					t.Errorf("%s: answer %x, error %v; want an error and no answer", proto, ans, err)
				}
			}
			if lg.count() != 0 {
				t.Errorf("logged %+v", lg.entries)
			}
		})
	}
	if _, err := (&Relay{}).Exchange(context.Background(), response, "udp"); !errors.Is(err, ErrNotQuery) {
		t.Errorf("response: %v, want ErrNotQuery", err)
	}
	if _, err := (&Relay{}).Exchange(context.Background(), good, "sctp"); err == nil {
		t.Error("unknown protocol accepted")
	}
	time.Sleep(50 * time.Millisecond)
	if n := srv.questions.Load(); n != 0 {
		t.Errorf("server received %d questions", n)
	}
	// The malformed queries above were sound apart from what each breaks.
	lg := &logger{}
	if _, err := newRelay(&testPolicy{}, lg, srv.addr).Exchange(context.Background(), good, "udp"); err != nil {
		t.Fatalf("the intact query fails: %v", err)
	}
}

// Queries that no resolver answers properly are answered locally: FORMERR
// for zero or several questions, NOTIMP for opcodes other than QUERY.
func TestLocalErrors(t *testing.T) {
	q := func(op dnsmessage.OpCode, names ...string) []byte {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 0x7777, OpCode: op, RecursionDesired: true})
		b.StartQuestions()
		for _, n := range names {
			b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(n), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
		}
		m, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name   string
		msg    []byte
		rcode  dnsmessage.RCode
		op     dnsmessage.OpCode
		rule   string
		qname  string
		qtype  string
		broken bool
	}{
		{name: "zero questions", msg: q(0), rcode: dnsmessage.RCodeFormatError, rule: RuleFormErr},
		{name: "two questions", msg: q(0, "a.example.", "b.example."), rcode: dnsmessage.RCodeFormatError, rule: RuleFormErr, qname: "a.example", qtype: "A"},
		{name: "notify", msg: q(4, "a.example."), rcode: dnsmessage.RCodeNotImplemented, op: 4, rule: RuleNotQuery, qname: "a.example", qtype: "A"},
		{name: "update, no question", msg: q(5), rcode: dnsmessage.RCodeNotImplemented, op: 5, rule: RuleNotQuery},
		// Past the header only QUERY is read: an odd opcode gets NOTIMP
		// whatever follows.
		{name: "status, garbage", msg: append(q(2, "a.example.")[:12], 0xc0, 0xff, 0x3f), rcode: dnsmessage.RCodeNotImplemented, op: 2, rule: RuleNotQuery},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lg := &logger{}
			noDial := func(context.Context, string, string) (net.Conn, error) {
				t.Error("dialed an upstream")
				return nil, errNoDial
			}
			r := &Relay{Upstreams: []netip.AddrPort{closedPort(t)}, Policy: &testPolicy{}, Log: lg.log, Dial: noDial}
			ans, err := r.Exchange(context.Background(), tc.msg, "udp")
			if err != nil {
				t.Fatal(err)
			}
			m := parse(t, ans)
			h := m.Header
			if h.ID != 0x7777 || !h.Response || h.RCode != tc.rcode || h.OpCode != tc.op || !h.RecursionAvailable {
				t.Errorf("header %+v", h)
			}
			if len(m.Questions) != 0 {
				t.Errorf("echoed %v for a malformed query", m.Questions)
			}
			e := lg.only(t)
			if e.Rule != tc.rule || e.Allow || e.Rcode != rcodeString(tc.rcode) || e.Name != tc.qname || e.Type != tc.qtype {
				t.Errorf("entry %+v", e)
			}
		})
	}
}
