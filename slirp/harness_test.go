package slirp

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/sbx-sandbox/sbx/slirp/policy"
	"github.com/sbx-sandbox/sbx/slirp/tap"
)

// A test network: sbx's stack on one in-memory channel endpoint, and a
// second gVisor stack standing for the sandbox's kernel on another, with
// frames carried between them. What sbx would dial on the host goes
// through recordingDialer, which redirects it to servers on 127.0.0.1:
// no test sends a packet off this machine.
type testNet struct {
	t       testing.TB
	net     *Network
	sandbox *stack.Stack
	dialer  *recordingDialer
	log     *Log

	hostSide *channel.Endpoint // sbx's side of the wire
	mu       sync.Mutex
	frames   [][]byte // what the sandbox sent
	toSbx    [][]byte // what sbx sent the sandbox
}

// recordingDialer records every host dial; each address is redirected to
// a server on 127.0.0.1 (route), or refused when it has none.
type recordingDialer struct {
	mu     sync.Mutex
	dialed []string
	route  map[string]string
}

func (d *recordingDialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, network+" "+address)
	to, ok := d.route[network+" "+address]
	d.mu.Unlock()
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errRefused}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, to)
}

func (d *recordingDialer) dials() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

type refused struct{}

func (refused) Error() string { return "connection refused" }

var errRefused error = refused{}

func newTestNet(t testing.TB, opts policy.Options, cfg Config) *testNet {
	t.Helper()
	hostSide := channel.New(512, tap.MTU, "")
	sandboxSide := channel.New(512, tap.MTU, "")
	d := &recordingDialer{route: map[string]string{}}
	if cfg.Dial == nil {
		cfg.Dial = d.dial
	}
	if cfg.DialDNS == nil {
		// Resolvers in tests are on 127.0.0.1: reach them for real.
		var nd net.Dialer
		cfg.DialDNS = nd.DialContext
	}
	cfg.Policy = policy.New(opts)
	if cfg.Log == nil {
		cfg.Log = NewLog(nil)
	}
	n, err := Serve(hostSide, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
	})
	if err := s.CreateNIC(1, sandboxSide); err != nil {
		t.Fatal(err)
	}
	s.AddProtocolAddress(1, tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4Slice(tap.SandboxIP), PrefixLen: 24},
	}, stack.AddressProperties{})
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, Gateway: tcpip.AddrFrom4Slice(tap.GatewayIP), NIC: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNet{t: t, sandbox: s, dialer: d, log: cfg.Log, hostSide: hostSide}
	go carry(ctx, sandboxSide, hostSide, tn.record)
	go carry(ctx, hostSide, sandboxSide, tn.recordToSandbox)
	t.Cleanup(func() {
		cancel()
		n.Close()
		s.Close()
	})
	tn.net = n
	return tn
}

// record keeps the frames the sandbox sent, as seeds for the fuzz target.
func (tn *testNet) record(frame []byte) {
	tn.mu.Lock()
	tn.frames = append(tn.frames, append([]byte(nil), frame...))
	tn.mu.Unlock()
}

func (tn *testNet) recordToSandbox(frame []byte) {
	tn.mu.Lock()
	tn.toSbx = append(tn.toSbx, append([]byte(nil), frame...))
	tn.mu.Unlock()
}

// received is what sbx sent the sandbox.
func (tn *testNet) received() [][]byte {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return append([][]byte(nil), tn.toSbx...)
}

func (tn *testNet) sent() [][]byte {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.frames
}

// carry moves every frame written to from into to, as a wire would.
func carry(ctx context.Context, from, to *channel.Endpoint, seen func([]byte)) {
	for {
		pkt := from.ReadContext(ctx)
		if pkt == nil {
			return
		}
		data := pkt.ToView().AsSlice()
		proto := pkt.NetworkProtocolNumber
		pkt.DecRef()
		if seen != nil {
			seen(data)
		}
		in := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(append([]byte(nil), data...))})
		to.InjectInbound(proto, in)
		in.DecRef()
	}
}

// dialTCP connects from inside the sandbox.
func (tn *testNet) dialTCP(to string) (*gonet.TCPConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tn.dialTCPContext(ctx, to)
}

func (tn *testNet) dialTCPContext(ctx context.Context, to string) (*gonet.TCPConn, error) {
	ap := netip.MustParseAddrPort(to)
	return gonet.DialContextTCP(ctx, tn.sandbox, tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFromSlice(ap.Addr().AsSlice()), Port: ap.Port()}, ipv4.ProtocolNumber)
}

// dialUDP opens a UDP flow from inside the sandbox.
func (tn *testNet) dialUDP(to string) *gonet.UDPConn {
	ap := netip.MustParseAddrPort(to)
	c, err := gonet.DialUDP(tn.sandbox, nil, &tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFromSlice(ap.Addr().AsSlice()), Port: ap.Port()}, ipv4.ProtocolNumber)
	if err != nil {
		tn.t.Fatal(err)
	}
	return c
}

// tcpEcho is a TCP server on 127.0.0.1 that echoes until the client
// half-closes, then closes.
func tcpEcho(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						c.Write(buf[:n])
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// udpEcho is a UDP server on 127.0.0.1 that sends every datagram back.
func udpEcho(t testing.TB) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().String()
}

func listenLoopback(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
