package slirp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rootless-containers/rootlesskit/v2/pkg/port/portutil"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/sbx-sandbox/sbx/slirp/tap"
)

// PublishSpec is one -p/--publish: the host listens on Host and carries
// what arrives to Port inside the sandbox.
type PublishSpec struct {
	Text  string
	Proto string // tcp or udp
	Host  netip.AddrPort
	Port  uint16
}

// ParsePublish reads [IP:]HOSTPORT:PORT[/tcp|udp], the syntax of podman
// and rootlesskit. Without an IP the host listens on 127.0.0.1 only:
// publishing to every interface is a choice to write down.
func ParsePublish(s string) (PublishSpec, error) {
	bad := func(why string) (PublishSpec, error) {
		return PublishSpec{}, fmt.Errorf("--publish %q: %s; expected [IP:]HOSTPORT:PORT[/tcp|udp], as in 8080:80 or 0.0.0.0:5353:53/udp", s, why)
	}
	text := s
	if !strings.Contains(text, "/") {
		text += "/tcp"
	}
	proto := text[strings.LastIndex(text, "/")+1:]
	if proto != "tcp" && proto != "udp" {
		return bad(fmt.Sprintf("protocol %q is not tcp or udp", proto))
	}
	ports := text[:strings.LastIndex(text, "/")]
	if strings.Count(ports, ":") == 1 {
		ports = "127.0.0.1:" + ports
	}
	ps, err := portutil.ParsePortSpec(ports + "/" + proto)
	if err != nil {
		return bad("cannot parse it")
	}
	if ps.ChildIP != "" {
		return bad("the sandbox's address is always " + tap.SandboxIP.String() + "; give only its port")
	}
	for _, p := range []int{ps.ParentPort, ps.ChildPort} {
		if p < 1 || p > 65535 {
			return bad(fmt.Sprintf("port %d is not in 1..65535", p))
		}
	}
	ip, err := netip.ParseAddr(ps.ParentIP)
	if err != nil {
		return bad(fmt.Sprintf("host address %q is not an IP address", ps.ParentIP))
	}
	return PublishSpec{Text: s, Proto: proto, Host: netip.AddrPortFrom(ip.Unmap(), uint16(ps.ParentPort)), Port: uint16(ps.ChildPort)}, nil
}

// Published is a bound host listener for one PublishSpec.
type Published struct {
	Spec PublishSpec
	ln   net.Listener
	pc   net.PacketConn
}

// Listen binds the host side now, before the sandbox starts, so that a
// port in use stops the run instead of a command that waits for nothing.
func Listen(p PublishSpec) (*Published, error) {
	out := &Published{Spec: p}
	var err error
	if p.Proto == "udp" {
		out.pc, err = net.ListenPacket("udp", p.Host.String())
	} else {
		out.ln, err = net.Listen("tcp", p.Host.String())
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("--publish %s: %s/%s is already in use on the host; choose another host port", p.Text, p.Host, p.Proto)
	}
	if err != nil {
		return nil, fmt.Errorf("--publish %s: %w", p.Text, err)
	}
	return out, nil
}

// Close releases the host port.
func (p *Published) Close() {
	if p.ln != nil {
		p.ln.Close()
	}
	if p.pc != nil {
		p.pc.Close()
	}
}

// publish serves one listener until the network closes.
func (n *Network) publish(p *Published) {
	n.onClose(p.Close)
	inside := tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFrom4Slice(tap.SandboxIP), Port: p.Spec.Port}
	if p.ln != nil {
		go n.publishTCP(p, inside)
	} else {
		go n.publishUDP(p, inside)
	}
}

func (n *Network) publishTCP(p *Published, inside tcpip.FullAddress) {
	for {
		hc, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !n.live.enter() {
			hc.Close()
			return
		}
		select {
		case n.tcpSlots <- struct{}{}:
		default:
			n.live.leave()
			hc.Close()
			continue
		}
		go func() {
			defer n.live.leave()
			defer func() { <-n.tcpSlots }()
			start := time.Now()
			ev := n.inbound(start, "tcp", p)
			ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
			sc, err := gonet.DialContextTCP(ctx, n.stack, inside, ipv4.ProtocolNumber)
			cancel()
			if err != nil {
				// Nothing listens inside: the host's client sees its
				// connection end at once.
				hostEnd(hc).abort()
				ev.Error = dialError(err)
				n.log.connection(ev, true)
				return
			}
			in, out := n.relay(hostEnd(hc), end{conn: sc, abort: func() { sc.Close() }})
			ev.BytesIn, ev.BytesOut, ev.DurationMS = in, out, msSince(start)
			n.log.connection(ev, true)
		}()
	}
}

// inbound is the log event of a published connection: its destination is
// the sandbox's port, and --publish is the rule.
func (n *Network) inbound(start time.Time, proto string, p *Published) Event {
	return Event{
		Time: start, Proto: proto, Direction: "in",
		Dst: tap.SandboxIP.String(), Port: p.Spec.Port,
		Verdict: "allow", Rule: "--publish " + p.Spec.Text,
	}
}

// publishUDP gives each host client a flow of its own into the sandbox,
// so that replies find their way back to it.
func (n *Network) publishUDP(p *Published, inside tcpip.FullAddress) {
	var mu sync.Mutex
	flows := map[string]*gonet.UDPConn{}
	buf := make([]byte, maxDatagram)
	for {
		nr, client, err := p.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		key := client.String()
		mu.Lock()
		flow := flows[key]
		mu.Unlock()
		if flow == nil {
			if !n.live.enter() {
				return
			}
			select {
			case n.udpSlots <- struct{}{}:
			default:
				n.live.leave()
				continue
			}
			flow, err = gonet.DialUDP(n.stack, nil, &inside, ipv4.ProtocolNumber)
			if err != nil {
				<-n.udpSlots
				n.live.leave()
				continue
			}
			mu.Lock()
			flows[key] = flow
			mu.Unlock()
			go func(flow *gonet.UDPConn, client net.Addr) {
				defer n.live.leave()
				defer func() { <-n.udpSlots }()
				start := time.Now()
				ev := n.inbound(start, "udp", p)
				done := n.onClose(func() { flow.Close() })
				reply := make([]byte, maxDatagram)
				for {
					flow.SetReadDeadline(time.Now().Add(udpIdle))
					nr, err := flow.Read(reply)
					if err != nil {
						break
					}
					ev.BytesIn += int64(nr)
					p.pc.WriteTo(reply[:nr], client)
				}
				done()
				mu.Lock()
				delete(flows, key)
				mu.Unlock()
				flow.Close()
				ev.DurationMS = msSince(start)
				n.log.connection(ev, true)
			}(flow, client)
		}
		flow.Write(buf[:nr])
	}
}
