package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// The network scripts reach only servers that the test itself starts on
// 127.0.0.1; the sandbox finds them through the gateway 10.0.2.2.

// cmdServe starts a server on 127.0.0.1 for the rest of the script and sets
// NAME_PORT (and, for http, NAME_SHA256: the checksum of /big):
//
//	serve tcp-echo|udp-echo|udp-closed|http|dns NAME
//
// udp-closed is a port where nothing listens (bound once to find it free).
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: serve tcp-echo|udp-echo|udp-closed|http|dns NAME")
	}
	kind, name := args[0], args[1]
	var port int
	switch kind {
	case "tcp-echo":
		ln := listen(ts, "tcp")
		go acceptEach(ln, func(c net.Conn) { io.Copy(c, c) })
		port = ln.Addr().(*net.TCPAddr).Port
	case "udp-echo":
		pc := listenPacket(ts)
		go answerEach(pc, func(q []byte) []byte { return q })
		port = pc.LocalAddr().(*net.UDPAddr).Port
	case "udp-closed":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		ts.Check(err)
		port = pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
	case "http":
		// /big: 64 MiB from a fixed seed, so its checksum is known.
		big := make([]byte, 64<<20)
		rand.New(rand.NewSource(1)).Read(big)
		ts.Setenv(name+"_SHA256", fmt.Sprintf("%x", sha256.Sum256(big)))
		mux := http.NewServeMux()
		mux.HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello from the host\n") })
		mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { w.Write(big) })
		ln := listen(ts, "tcp")
		srv := &http.Server{Handler: mux}
		go srv.Serve(ln)
		ts.Defer(func() { srv.Close() })
		port = ln.Addr().(*net.TCPAddr).Port
	case "dns":
		port = serveDNS(ts, name)
	default:
		ts.Fatalf("serve: unknown kind %q", kind)
	}
	ts.Setenv(name+"_PORT", strconv.Itoa(port))
}

func listen(ts *testscript.TestScript, network string) net.Listener {
	ln, err := net.Listen(network, "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
	return ln
}

func listenPacket(ts *testscript.TestScript) net.PacketConn {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { pc.Close() })
	return pc
}

// answerEach replies to each datagram with answer's result, or not at all
// when it is nil.
func answerEach(pc net.PacketConn, answer func([]byte) []byte) {
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if out := answer(buf[:n]); out != nil {
			pc.WriteTo(out, from)
		}
	}
}

func acceptEach(ln net.Listener, handle func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			handle(c)
		}()
	}
}

// dnsServers are the scripts' resolvers by name, for dnsasked.
var dnsServers sync.Map // name → *scriptResolver

type scriptResolver struct {
	mu    sync.Mutex
	asked []string
}

// serveDNS answers every A question with 203.0.113.7 (TEST-NET-3: the
// scripts never connect to it) and every other type with no records, over
// UDP and TCP on one port, and keeps the names it was asked.
func serveDNS(ts *testscript.TestScript, name string) int {
	r := &scriptResolver{}
	dnsServers.Store(name, r)
	var pc net.PacketConn
	var ln net.Listener
	for pc == nil {
		var err error
		pc = listenPacket(ts)
		port := pc.LocalAddr().(*net.UDPAddr).Port
		if ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err != nil {
			pc = nil // that port is taken for TCP: another pair
		}
	}
	ts.Defer(func() { ln.Close() })
	go answerEach(pc, r.answer)
	go acceptEach(ln, func(c net.Conn) {
		var size [2]byte
		for {
			if _, err := io.ReadFull(c, size[:]); err != nil {
				return
			}
			q := make([]byte, binary.BigEndian.Uint16(size[:]))
			if _, err := io.ReadFull(c, q); err != nil {
				return
			}
			out := r.answer(q)
			if out == nil {
				return
			}
			c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(out))), out...))
		}
	})
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func (r *scriptResolver) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	r.mu.Lock()
	r.asked = append(r.asked, strings.TrimSuffix(q.Name.String(), "."))
	r.mu.Unlock()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionAvailable: true, RecursionDesired: h.RecursionDesired})
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	if q.Type == dnsmessage.TypeA {
		b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{203, 0, 113, 7}})
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

// cmdDNSAsked checks whether the script's resolver NAME was asked QNAME:
//
//	[!] dnsasked NAME QNAME
func cmdDNSAsked(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: dnsasked NAME QNAME")
	}
	v, ok := dnsServers.Load(args[0])
	if !ok {
		ts.Fatalf("dnsasked: no resolver %s", args[0])
	}
	r := v.(*scriptResolver)
	r.mu.Lock()
	asked := append([]string(nil), r.asked...)
	r.mu.Unlock()
	found := false
	for _, a := range asked {
		found = found || strings.EqualFold(a, args[1])
	}
	if found == neg {
		ts.Fatalf("resolver %s was asked %q (want asked: %v)", args[0], asked, !neg)
	}
}

// cmdFreePort sets NAME to a TCP and UDP port free on 127.0.0.1 now.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport NAME")
	}
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		ln.Close()
		if err == nil {
			pc.Close()
			ts.Setenv(args[0], strconv.Itoa(port))
			return
		}
	}
}

// hasTun says whether this user can open /dev/net/tun (--net slirp).
func hasTun() bool {
	return unix.Access("/dev/net/tun", unix.R_OK|unix.W_OK) == nil
}
