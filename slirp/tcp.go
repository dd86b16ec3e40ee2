package slirp

import (
	"context"
	"errors"
	"net"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// keepalive is how long a connection may sit idle before either side
// probes its peer, on the sandbox's side and on the host's.
const keepalive = 30 * time.Second

// forwardTCP decides a connection the sandbox opened, while its SYN waits:
// a denied or refused one is reset at once (the command sees
// ECONNREFUSED, no hang), an allowed one is answered only once the host
// side is connected, so what the command sees is what the host got.
func (n *Network) forwardTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	syn := n.syns.take(id)
	if !n.live.enter() {
		r.Complete(true)
		return
	}
	defer n.live.leave()
	dst := addrPort(id.LocalAddress, id.LocalPort)
	start := time.Now()
	ev := Event{Time: start, Proto: "tcp"}
	host, v := n.decide("tcp", dst)
	ev.setDestination(host, v)
	if !v.Allow {
		r.Complete(true)
		n.log.connection(ev, false)
		return
	}
	select {
	case n.tcpSlots <- struct{}{}:
	default:
		r.Complete(true)
		ev.Error = "too many connections"
		n.log.connection(ev, false)
		return
	}
	defer func() { <-n.tcpSlots }()
	ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
	hostConn, err := n.cfg.Dial(ctx, "tcp", host.String())
	cancel()
	if err != nil {
		// Unreachable on the host: the sandbox is told so by ICMP, as
		// a router would. Refused or timed out: a reset, as from a
		// host that refuses.
		code, ok := unreachableCode(err)
		if ok && code != header.ICMPv4PortUnreachable && syn != nil {
			r.Complete(false)
			n.sendUnreachable(code, syn)
		} else {
			r.Complete(true)
		}
		ev.Error = dialError(err)
		n.log.connection(ev, true)
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		// The sandbox gave up (or the handshake failed) meanwhile.
		r.Complete(true)
		hostConn.Close()
		ev.Error = terr.String()
		n.log.connection(ev, true)
		return
	}
	r.Complete(false)
	ep.SocketOptions().SetKeepAlive(true)
	idle := tcpip.KeepaliveIdleOption(keepalive)
	ep.SetSockOpt(&idle)
	interval := tcpip.KeepaliveIntervalOption(keepalive / 2)
	ep.SetSockOpt(&interval)
	sandboxConn := gonet.NewTCPConn(&wq, ep)
	out, in := n.relay(sandboxEnd(sandboxConn, ep), hostEnd(hostConn))
	ev.BytesOut, ev.BytesIn = out, in
	ev.DurationMS = msSince(start)
	n.log.connection(ev, true)
}

// dialError is the short reason a host dial failed, for the log.
func dialError(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}
