package slirp

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	// udpIdle ends a flow that carried nothing either way for this long,
	// as a NAT forgets it.
	udpIdle = 90 * time.Second
	// maxDatagram is the largest UDP payload over IPv4.
	maxDatagram = 65507
)

// forwardUDP decides a flow on its first datagram. A denied flow is left
// unhandled, and the stack answers ICMP port unreachable, as a host with
// nothing listening would; an allowed one gets a host socket of its own.
func (n *Network) forwardUDP(r *udp.ForwarderRequest) bool {
	if !n.live.enter() {
		return false
	}
	relaying := false
	defer func() {
		if !relaying {
			n.live.leave()
		}
	}()
	id := r.ID()
	dst := addrPort(id.LocalAddress, id.LocalPort)
	start := time.Now()
	ev := Event{Time: start, Proto: "udp"}
	host, v := n.decide("udp", dst)
	ev.setDestination(host, v)
	if !v.Allow {
		n.log.connection(ev, false)
		return false
	}
	select {
	case n.udpSlots <- struct{}{}:
	default:
		ev.Error = "too many flows"
		n.log.connection(ev, false)
		return false
	}
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	hostConn, err := n.cfg.Dial(ctx, "udp", host.String())
	cancel()
	if err != nil {
		<-n.udpSlots
		ev.Error = dialError(err)
		n.log.connection(ev, true)
		return false
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		<-n.udpSlots
		hostConn.Close()
		ev.Error = terr.String()
		n.log.connection(ev, true)
		return true
	}
	sandboxConn := gonet.NewUDPConn(&wq, ep)
	sandbox := tcpip.FullAddress{Addr: id.RemoteAddress, Port: id.RemotePort}
	to := tcpip.FullAddress{Addr: id.LocalAddress, Port: id.LocalPort}
	// The log keeps the first such error of the flow, as it keeps a
	// refused dial's.
	var firstErr atomic.Pointer[string]
	unreachable := func(err error, size int) bool {
		code, ok := unreachableCode(err)
		if ok {
			msg := dialError(err)
			firstErr.CompareAndSwap(nil, &msg)
			n.sendUnreachable(code, udpQuote(sandbox, to, size))
		}
		return ok
	}
	relaying = true
	go func() {
		defer n.live.leave()
		defer func() { <-n.udpSlots }()
		out, in := n.relayUDP(sandboxConn, hostConn, unreachable)
		if msg := firstErr.Load(); msg != nil {
			ev.Error = *msg
		}
		ev.BytesOut, ev.BytesIn = out, in
		ev.DurationMS = msSince(start)
		n.log.connection(ev, true)
	}()
	return true
}

// relayUDP carries datagrams both ways until the flow has been idle for
// udpIdle, or the network closes. An error that ICMP brought the host
// socket (the last datagram found no listener, or no route) goes to
// unreachable, with the size of the sandbox's last datagram, and the flow
// goes on, as a socket on a real network does.
func (n *Network) relayUDP(sandbox, host net.Conn, unreachable func(err error, size int) bool) (out, in int64) {
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			sandbox.Close()
			host.Close()
		})
	}
	unregister := n.onClose(closeBoth)
	defer unregister()
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var lastSize atomic.Int64
	var wg sync.WaitGroup
	var o, i atomic.Int64
	copyDatagrams := func(dst, src net.Conn, count *atomic.Int64) {
		defer wg.Done()
		defer closeBoth()
		buf := make([]byte, maxDatagram)
		for {
			src.SetReadDeadline(time.Now().Add(udpIdle))
			nr, err := src.Read(buf)
			if err != nil {
				if src == host && unreachable(err, int(lastSize.Load())) {
					continue
				}
				// A deadline in one direction while the other still
				// carries datagrams is not the end of the flow.
				if ne, ok := err.(net.Error); ok && ne.Timeout() &&
					time.Since(time.Unix(0, last.Load())) < udpIdle {
					continue
				}
				return
			}
			last.Store(time.Now().UnixNano())
			_, err = dst.Write(buf[:nr])
			if err != nil && dst == host && unreachable(err, int(lastSize.Load())) {
				// The error was the previous datagram's; this one
				// still goes.
				_, err = dst.Write(buf[:nr])
			}
			if err == nil {
				count.Add(int64(nr))
				if dst == host {
					lastSize.Store(int64(nr))
				}
			}
		}
	}
	wg.Add(2)
	go copyDatagrams(host, sandbox, &o)
	go copyDatagrams(sandbox, host, &i)
	wg.Wait()
	return o.Load(), i.Load()
}
