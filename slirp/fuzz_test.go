package slirp

import (
	"net/netip"
	"runtime"
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// FuzzFrames feeds arbitrary IP packets into sbx's stack, as a hostile
// sandbox can through its TAP. The seeds are real frames of a TCP
// connection, a UDP flow and a DNS question, captured here; the fuzzer
// mutates them. Nothing may panic, and the stack keeps serving: a real
// connection still works after every input.
func FuzzFrames(f *testing.F) {
	res := startResolver(f, netip.MustParseAddr("203.0.113.44"))
	seedNet := newTestNet(f, policy.Options{}, Config{Upstreams: []netip.AddrPort{res.addr}})
	seedNet.dialer.route["tcp 203.0.113.7:80"] = tcpEcho(f)
	if c, err := seedNet.dialTCP("203.0.113.7:80"); err == nil {
		c.Write([]byte("seed"))
		c.Close()
	}
	u := seedNet.dialUDP("203.0.113.20:9999")
	u.Write([]byte("seed"))
	u.Close()
	seedNet.ask("seed.example.test")
	for _, frame := range seedNet.sent() {
		f.Add(frame)
	}
	f.Add([]byte{0x45})
	f.Add(make([]byte, 20))

	tn := newTestNet(f, policy.Options{}, Config{Upstreams: []netip.AddrPort{res.addr}})
	tn.dialer.route["tcp 203.0.113.7:80"] = tcpEcho(f)
	runs := 0
	f.Fuzz(func(t *testing.T, frame []byte) {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(append([]byte(nil), frame...))})
		tn.hostSide.InjectInbound(ipv4.ProtocolNumber, pkt)
		pkt.DecRef()
		runs++
		if runs%1000 == 0 {
			// Still serving: a real connection works.
			c, err := tn.dialTCP("203.0.113.7:80")
			if err != nil {
				t.Fatalf("after %d inputs the stack no longer connects: %v", runs, err)
			}
			c.Close()
			runtime.GC()
		}
	})
}
