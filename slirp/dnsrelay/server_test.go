package dnsrelay

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// handler answers one query the test server received; each returned message
// is sent back (as its own datagram over UDP, framed over TCP). nil sends
// nothing, like a resolver that never answers.
type handler func(req *dnsmessage.Message, proto string) [][]byte

// testServer is a tiny authoritative server on 127.0.0.1, UDP and TCP on the
// same port as a real resolver has them, that records what reached it.
type testServer struct {
	addr      netip.AddrPort
	handle    handler
	questions atomic.Int64

	mu       sync.Mutex
	received [][]byte // raw queries, in arrival order
	protos   []string
	sent     [][]byte // raw replies, in order
}

func startServer(t *testing.T, h handler) *testServer {
	t.Helper()
	s := &testServer{handle: h}
	var (
		tl  net.Listener
		uc  net.PacketConn
		err error
	)
	// Port 0 picks a free TCP port; the UDP one of the same number is
	// almost always free too, and another try fixes the rare clash.
	for range 20 {
		tl, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		uc, err = net.ListenPacket("udp", tl.Addr().String())
		if err == nil {
			break
		}
		tl.Close()
	}
	if err != nil {
		t.Fatalf("no port free for both UDP and TCP: %v", err)
	}
	s.addr = netip.MustParseAddrPort(tl.Addr().String())

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.serveUDP(uc, &wg) }()
	go func() { defer wg.Done(); s.serveTCP(tl, &wg) }()
	t.Cleanup(func() {
		tl.Close()
		uc.Close()
		wg.Wait()
	})
	return s
}

// record parses a query, counts its questions and asks the handler.
func (s *testServer) record(raw []byte, proto string) [][]byte {
	var m dnsmessage.Message
	if err := m.Unpack(raw); err != nil {
		return nil
	}
	s.questions.Add(int64(len(m.Questions)))
	s.mu.Lock()
	s.received = append(s.received, append([]byte(nil), raw...))
	s.protos = append(s.protos, proto)
	s.mu.Unlock()
	replies := s.handle(&m, proto)
	s.mu.Lock()
	s.sent = append(s.sent, replies...)
	s.mu.Unlock()
	return replies
}

func (s *testServer) serveUDP(c net.PacketConn, wg *sync.WaitGroup) {
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		raw := append([]byte(nil), buf[:n]...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range s.record(raw, "udp") {
				c.WriteTo(r, from)
			}
		}()
	}
}

func (s *testServer) serveTCP(l net.Listener, wg *sync.WaitGroup) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			var lb [2]byte
			if _, err := io.ReadFull(c, lb[:]); err != nil {
				return
			}
			raw := make([]byte, binary.BigEndian.Uint16(lb[:]))
			if _, err := io.ReadFull(c, raw); err != nil {
				return
			}
			replies := s.record(raw, "tcp")
			if replies == nil {
				// Never answer: hold the connection until the client
				// gives up.
				io.Copy(io.Discard, c)
				return
			}
			for _, r := range replies {
				c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(r))))
				c.Write(r)
			}
		}()
	}
}

func (s *testServer) snapshot() (received [][]byte, protos []string, sent [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.received...), append([]string(nil), s.protos...), append([][]byte(nil), s.sent...)
}

// closedPort returns a 127.0.0.1 port that nothing listens on: a query sent
// there is answered by ICMP port unreachable.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(c.LocalAddr().String())
	c.Close()
	return ap
}

// zone is the test server's data. The addresses are documentation ones and
// only ever appear inside DNS messages.
var zone = map[string][]dnsmessage.Resource{
	"a.example.": {
		aRecord("a.example.", "192.0.2.1"),
		aRecord("a.example.", "192.0.2.2"),
		aaaaRecord("a.example.", "2001:db8::1"),
	},
	// A CNAME chain, one record that is not on it, listed out of order.
	"www.example.": {
		aRecord("edge.example.", "192.0.2.10"),
		aRecord("other.example.", "198.51.100.1"),
		cnameRecord("cdn.example.", "edge.example."),
		cnameRecord("www.example.", "cdn.example."),
		aaaaRecord("edge.example.", "2001:db8::10"),
	},
}

// serverCookie is an EDNS option the server sends back: it must reach the
// sandbox unchanged.
var serverCookie = dnsmessage.Option{Code: 10, Data: []byte("client01server0123456789")}

// authoritative answers from zone, NXDOMAIN for other names, and adds an OPT
// record with a cookie when the query has one.
func authoritative(req *dnsmessage.Message, proto string) [][]byte {
	q := req.Questions[0]
	rcode := dnsmessage.RCodeSuccess
	var answers []dnsmessage.Resource
	name := strings.ToLower(q.Name.String())
	recs, ok := zone[name]
	if !ok {
		rcode = dnsmessage.RCodeNameError
	}
	for _, r := range recs {
		if name == "www.example." || r.Header.Type == q.Type {
			answers = append(answers, r)
		}
	}
	return [][]byte{reply(req, rcode, answers, hasOPT(req))}
}

func hasOPT(m *dnsmessage.Message) bool {
	for _, r := range m.Additionals {
		if r.Header.Type == dnsmessage.TypeOPT {
			return true
		}
	}
	return false
}

// reply packs an answer to req.
func reply(req *dnsmessage.Message, rcode dnsmessage.RCode, answers []dnsmessage.Resource, edns bool) []byte {
	m := dnsmessage.Message{
		Header: dnsmessage.Header{
			ID: req.Header.ID, Response: true, Authoritative: true,
			RecursionDesired: req.Header.RecursionDesired, RCode: rcode & 0xf,
		},
		Questions: req.Questions,
		Answers:   answers,
	}
	if edns {
		var rh dnsmessage.ResourceHeader
		rh.SetEDNS0(4096, rcode, true)
		m.Additionals = []dnsmessage.Resource{{
			Header: rh,
			Body:   &dnsmessage.OPTResource{Options: []dnsmessage.Option{serverCookie}},
		}}
	}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

func aRecord(name, ip string) dnsmessage.Resource {
	return dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 3600},
		Body:   &dnsmessage.AResource{A: netip.MustParseAddr(ip).As4()},
	}
}

func aaaaRecord(name, ip string) dnsmessage.Resource {
	return dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeAAAA, Class: dnsmessage.ClassINET, TTL: 7200},
		Body:   &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr(ip).As16()},
	}
}

func cnameRecord(name, target string) dnsmessage.Resource {
	return dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeCNAME, Class: dnsmessage.ClassINET, TTL: 300},
		Body:   &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)},
	}
}

// clientCookie is the EDNS option the sandbox sends; the server must see it
// unchanged.
var clientCookie = dnsmessage.Option{Code: 10, Data: []byte("client01")}

// newQuery packs a recursive query as a stub resolver sends it.
func newQuery(id uint16, name string, typ dnsmessage.Type, edns bool) []byte {
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}},
	}
	if edns {
		var rh dnsmessage.ResourceHeader
		rh.SetEDNS0(1232, dnsmessage.RCodeSuccess, true)
		m.Additionals = []dnsmessage.Resource{{
			Header: rh,
			Body:   &dnsmessage.OPTResource{Options: []dnsmessage.Option{clientCookie}},
		}}
	}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

// testPolicy allows every name but those under denied.example, and keeps
// what it learns.
type testPolicy struct {
	mu      sync.Mutex
	asked   []string
	learned map[string][]netip.Addr
}

func (p *testPolicy) Question(name string) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, name)
	if name == "denied.example" || strings.HasSuffix(name, ".denied.example") {
		return false, "test deny"
	}
	return true, "test allow"
}

func (p *testPolicy) Learn(name string, addrs []netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.learned == nil {
		p.learned = map[string][]netip.Addr{}
	}
	p.learned[name] = append(p.learned[name], addrs...)
}

func (p *testPolicy) learnedCopy() map[string][]netip.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]netip.Addr{}
	for k, v := range p.learned {
		out[k] = append([]netip.Addr(nil), v...)
	}
	return out
}

// logger collects entries.
type logger struct {
	mu      sync.Mutex
	entries []Entry
}

func (l *logger) log(e Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
}

// only returns the single entry logged, failing otherwise.
func (l *logger) only(t *testing.T) Entry {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) != 1 {
		t.Fatalf("%d log entries, want 1: %+v", len(l.entries), l.entries)
	}
	return l.entries[0]
}

func (l *logger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// parse unpacks an answer, failing the test if it does not parse.
func parse(t *testing.T, b []byte) *dnsmessage.Message {
	t.Helper()
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil {
		t.Fatalf("answer does not parse: %v", err)
	}
	return &m
}

var errNoDial = errors.New("test: dialing is not allowed here")
