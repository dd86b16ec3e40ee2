package slirp

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/sbx-sandbox/sbx/slirp/policy"
	"github.com/sbx-sandbox/sbx/slirp/tap"
)

// maxDNSInFlight bounds the questions relayed at once over UDP; the relay
// answers SERVFAIL beyond its own bound, this one keeps goroutines down.
const maxDNSInFlight = 256

// dnsTCPIdle closes a DNS-over-TCP connection that asks nothing more.
const dnsTCPIdle = 10 * time.Second

// policyNames lets the DNS relay ask the policy about names and tell it
// what they resolved to.
type policyNames struct{ p *policy.Policy }

func (a policyNames) Question(name string) (bool, string) {
	v := a.p.Question(name)
	return v.Allow, v.Rule
}

func (a policyNames) Learn(name string, addrs []netip.Addr) { a.p.Learn(name, addrs) }

// serveDNS answers at 10.0.2.3:53, over UDP and TCP. These endpoints are
// bound, so they win over the forwarders: DNS never goes out as an
// ordinary flow, whatever the policy.
func (n *Network) serveDNS() error {
	addr := tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFrom4Slice(tap.DNSIP), Port: 53}
	uc, err := gonet.DialUDP(n.stack, &addr, nil, ipv4.ProtocolNumber)
	if err != nil {
		return err
	}
	n.onClose(func() { uc.Close() })
	ln, err := gonet.ListenTCP(n.stack, addr, ipv4.ProtocolNumber)
	if err != nil {
		return err
	}
	n.onClose(func() { ln.Close() })
	go n.dnsUDP(uc)
	go n.dnsTCP(ln)
	return nil
}

func (n *Network) dnsUDP(c *gonet.UDPConn) {
	slots := make(chan struct{}, maxDNSInFlight)
	buf := make([]byte, 65535)
	for {
		nr, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		if !n.live.enter() {
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			n.live.leave()
			continue // a flood: the sandbox's resolver retries
		}
		query := append([]byte(nil), buf[:nr]...)
		go func() {
			defer n.live.leave()
			defer func() { <-slots }()
			answer, err := n.dns.Exchange(n.ctx, query, "udp")
			if err == nil && answer != nil {
				c.WriteTo(answer, from)
			}
		}()
	}
}

func (n *Network) dnsTCP(ln *gonet.TCPListener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if !n.live.enter() {
			c.Close()
			return
		}
		select {
		case n.tcpSlots <- struct{}{}:
		default:
			n.live.leave()
			c.Close()
			continue
		}
		go func() {
			defer n.live.leave()
			defer func() { <-n.tcpSlots }()
			n.dnsConn(c)
		}()
	}
}

// dnsConn answers length-prefixed messages on one connection, in order.
func (n *Network) dnsConn(c net.Conn) {
	done := n.onClose(func() { c.Close() })
	defer done()
	defer c.Close()
	var size [2]byte
	for {
		c.SetReadDeadline(time.Now().Add(dnsTCPIdle))
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		query := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(c, query); err != nil {
			return
		}
		answer, err := n.dns.Exchange(n.ctx, query, "tcp")
		if err != nil || answer == nil {
			return
		}
		out := make([]byte, 2+len(answer))
		binary.BigEndian.PutUint16(out, uint16(len(answer)))
		copy(out[2:], answer)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}
