// Package slirp serves the sandbox's network from inside sbx's parent
// process: the child's TAP is read by gVisor's netstack, which terminates
// every TCP connection and UDP flow the sandbox opens, checks it against
// the egress policy (slirp/policy) and re-originates it from a host socket.
// DNS at 10.0.2.3 is relayed (slirp/dnsrelay), --publish carries host
// connections in, and every connection and question can be logged.
//
// No relay process and no helper binary: the frames go from the TAP's
// descriptor straight into the stack, one read per frame at MTU 65520.
package slirp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/sbx-sandbox/sbx/internal/fdlimit"
	"github.com/sbx-sandbox/sbx/slirp/dnsrelay"
	"github.com/sbx-sandbox/sbx/slirp/policy"
	"github.com/sbx-sandbox/sbx/slirp/tap"
)

const nicID tcpip.NICID = 1

// Bounds on what the sandbox can make sbx hold. A connection flood from
// inside meets them and is refused (RST, ICMP unreachable); the
// connections already open keep working.
const (
	// maxPendingTCP is how many connections may wait for their host dial
	// at once: enough for a parallel package download (a forwarder with
	// 10 drops SYNs under npm's default 16 sockets per host).
	maxPendingTCP = 1024
	// maxTCP and maxUDP bound the relayed connections and flows, each
	// with a host socket; a smaller limit on open descriptors lowers
	// them (their shares of it: fdlimit).
	maxTCP = 4096
	maxUDP = 512
	// keptWorkers is how many idle goroutines, with their grown stacks
	// (tens of KiB each), are kept for the next connections.
	keptWorkers = 32
	// tcpBufferMax bounds each connection's receive and send buffers in
	// the stack; the default leaves room for a full window at 65520.
	tcpBufferDefault = 1 << 20
	tcpBufferMax     = 4 << 20
	// qdiscLen is how many frames may wait for the TAP (at most 16 MiB
	// at MTU 65520, four full send buffers); beyond it a write fails and
	// TCP sends again later, as at a full device queue.
	qdiscLen = 256
)

// DialFunc opens the host side of a connection. Tests inject one that
// records what would be dialled; sbx dials for real.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Config is what a run's network serves.
type Config struct {
	Policy *policy.Policy
	// Upstreams are the resolvers DNS questions go to.
	Upstreams []netip.AddrPort
	// Dial re-originates allowed connections; nil: a real dialer.
	Dial DialFunc
	// DialDNS opens the connection to an upstream resolver; nil: Dial's
	// default. Kept apart so tests can count what reaches the resolver.
	DialDNS DialFunc
	// Log receives one event per connection and per DNS question.
	Log *Log
	// Publish are the host listeners (already bound) whose connections
	// go into the sandbox.
	Publish []*Published
}

// Network is a running user-space network for one sandbox.
type Network struct {
	cfg   Config
	stack *stack.Stack
	dns   *dnsrelay.Relay
	log   *Log

	tcpSlots chan struct{}
	udpSlots chan struct{}
	syns     synQuotes   // the SYNs waiting for their host dial
	live     liveSet     // what is being served, for Close to wait for
	work     *workers    // goroutines kept for connections
	closing  *closeLater // host sockets of ended connections, to close

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closers  map[*closer]struct{} // what Close must close: listeners, relays
	stopLink func()               // stops the TAP's reader, or nil
	frames   func() uint64        // the frames read from the TAP so far, or nil
	link     *os.File             // the TAP, closed last
}

// ServeTAP serves the TAP descriptor the child handed over; it takes tap.
func ServeTAP(dev *os.File, cfg Config) (*Network, error) {
	// The endpoint reads the descriptor by number: the file stays open as
	// long as the network, and closes with it.
	ep, err := fdbased.New(&fdbased.Options{
		FDs:            []int{int(dev.Fd())},
		MTU:            tap.MTU,
		EthernetHeader: true,
		// The TAP carries frames from the sandbox's kernel, which has
		// checked them already; the stack need not checksum them again.
		// Checksums on what the stack sends stay: a TAP without
		// IFF_VNET_HDR cannot say "checksum pending".
		RXChecksumOffload: true,
		Address:           tcpip.LinkAddress(gatewayMAC),
		// The reader delivers the frames itself, rather than handing
		// them to one goroutine per CPU: a hand-off wakes another
		// thread, often an idle vCPU, for every frame of a small
		// exchange (HTTP one request at a time about 9 % faster, bulk
		// alike). Close stops the reader first (stopLink).
		ProcessorsPerChannel: 1,
	})
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("serve the TAP: %w", err)
	}
	link, err := newPolledLink(ep, int(dev.Fd()), tcpip.LinkAddress(gatewayMAC))
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("serve the TAP: %w", err)
	}
	n, err := Serve(link, cfg)
	if err != nil {
		link.Close()
		dev.Close()
		return nil, err
	}
	// Closed after the stack: its reader polls the descriptor until the
	// stack stops it, and a number closed under it could be reused.
	n.link = dev
	// The reader delivers frames inline, and a frame may need the
	// stack's lock, which removing the NIC holds while it waits for the
	// reader: so the reader stops before the stack does, holding nothing.
	n.stopLink = link.Close
	n.frames = link.frames.Load
	return n, nil
}

// gatewayMAC is the stack's Ethernet address on the TAP (locally
// administered, as slirp4netns's 52:55:0a:00:02:02).
const gatewayMAC = "\x52\x55\x0a\x00\x02\x02"

// Serve runs the network on a link endpoint: the TAP's, or an in-memory
// channel in tests.
func Serve(ep stack.LinkEndpoint, cfg Config) (*Network, error) {
	if cfg.Policy == nil {
		return nil, errors.New("slirp: no policy")
	}
	if cfg.Dial == nil {
		cfg.Dial = newHostDialer(30*time.Second, keepalive).dial
	}
	if cfg.DialDNS == nil {
		cfg.DialDNS = cfg.Dial
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
	})
	ctx, cancel := context.WithCancel(context.Background())
	n := &Network{
		cfg: cfg, stack: s, log: cfg.Log,
		tcpSlots: make(chan struct{}, fdlimit.Share(maxTCP, fdlimit.NetTCP, 64)),
		udpSlots: make(chan struct{}, fdlimit.Share(maxUDP, fdlimit.NetUDP, 16)),
		ctx:      ctx, cancel: cancel,
		closers: map[*closer]struct{}{},
		work:    newWorkers(ctx, keptWorkers),
	}
	n.closing = newCloseLater(cap(n.tcpSlots))
	if err := n.configure(ep); err != nil {
		s.Close()
		cancel()
		return nil, err
	}
	n.dns = &dnsrelay.Relay{
		Upstreams: cfg.Upstreams,
		Policy:    policyNames{cfg.Policy},
		Dial:      cfg.DialDNS,
		Log:       n.log.dns,
	}
	if err := n.serveDNS(); err != nil {
		n.Close()
		return nil, err
	}
	for _, p := range cfg.Publish {
		n.publish(p)
	}
	return n, nil
}

// configure makes the stack answer for every address the sandbox talks
// to: the gateway and DNS addresses are its own, and promiscuous mode with
// spoofing lets it terminate connections to any other destination as if
// it were that host.
func (n *Network) configure(ep stack.LinkEndpoint) error {
	s := n.stack
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4 << 10, Default: tcpBufferDefault, Max: tcpBufferMax}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &rcv)
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4 << 10, Default: tcpBufferDefault, Max: tcpBufferMax}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &snd)
	// TIME-WAIT guards against a lost segment's late twin; on a TAP to
	// the next kernel there is no such thing, and a long TIME-WAIT only
	// stalls the sandbox's next connection from the same port (see
	// endTimeWait, which ends most at once).
	tw := tcpip.TCPTimeWaitTimeoutOption(time.Second)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &tw)
	// The frames the stack sends go through a queue (see txQueue).
	qdisc := newTxQueue(ep)
	if err := s.CreateNICWithOptions(nicID, ep, stack.NICOptions{QDisc: qdisc}); err != nil {
		qdisc.Close()
		return fmt.Errorf("slirp: create NIC: %s", err)
	}
	for _, ip := range []net.IP{tap.GatewayIP, tap.DNSIP} {
		addr := tcpip.ProtocolAddress{
			Protocol:          ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4Slice(ip), PrefixLen: 24},
		}
		if err := s.AddProtocolAddress(nicID, addr, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("slirp: address %s: %s", ip, err)
		}
	}
	if err := s.SetPromiscuousMode(nicID, true); err != nil {
		return fmt.Errorf("slirp: promiscuous mode: %s", err)
	}
	if err := s.SetSpoofing(nicID, true); err != nil {
		return fmt.Errorf("slirp: spoofing: %s", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nicID}})
	// The forwarder starts a goroutine for each SYN; the work is done on
	// a kept one (workers.go).
	tf := tcp.NewForwarder(s, 0, maxPendingTCP, func(r *tcp.ForwarderRequest) {
		n.work.do(func() { n.forwardTCP(r) })
	})
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, func(id stack.TransportEndpointID, pkt *stack.PacketBuffer) bool {
		n.syns.remember(id, pkt)
		return tf.HandlePacket(id, pkt)
	})
	uf := udp.NewForwarder(s, n.forwardUDP)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, uf.HandlePacket)
	return nil
}

// Close stops the network: listeners, relays, the stack, the TAP.
func (n *Network) Close() {
	n.settle()
	if n.stopLink != nil {
		n.stopLink()
	}
	n.cancel()
	n.mu.Lock()
	cs := n.closers
	n.closers = nil
	n.mu.Unlock()
	for c := range cs {
		c.f()
	}
	n.stack.Close()
	n.stack.Wait()
	n.live.closeAndWait(2 * time.Second)
	n.closing.stop()
	if n.link != nil {
		n.link.Close()
	}
}

// closer is one thing Close closes.
type closer struct{ f func() }

// onClose registers f for Close and returns a function that unregisters
// it (for relays that end on their own). After Close, f runs at once.
func (n *Network) onClose(f func()) (done func()) {
	c := &closer{f: f}
	n.mu.Lock()
	if n.closers == nil {
		n.mu.Unlock()
		f()
		return func() {}
	}
	n.closers[c] = struct{}{}
	n.mu.Unlock()
	return func() {
		n.mu.Lock()
		if n.closers != nil {
			delete(n.closers, c)
		}
		n.mu.Unlock()
	}
}

// settle lets the network finish what the sandbox sent before its run
// ended: a reply written just before the command exited may still wait in
// the TAP, or in a relay that has not yet run (on the parent's one P,
// nothing else runs while the run is being wound up). It yields until a
// millisecond passes with no new frame, for at most settleMax.
func (n *Network) settle() {
	if n.frames == nil {
		return
	}
	deadline := time.Now().Add(settleMax)
	for seen := n.frames(); time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		now := n.frames()
		if now == seen {
			return
		}
		seen = now
	}
}

// settleMax bounds settle: a sandbox that floods the TAP to the end must
// not hold sbx's exit.
const settleMax = 50 * time.Millisecond
