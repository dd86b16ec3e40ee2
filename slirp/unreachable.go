package slirp

import (
	"errors"
	"sync"
	"syscall"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// What the host's kernel learns from ICMP about a destination (a port with
// nothing listening, a host or network it cannot reach) reaches sbx as an
// error on the host socket. The sandbox is told the same way a real
// network would tell it: with ICMP destination unreachable, quoting the
// packet it refers to, so its kernel gives the socket ECONNREFUSED,
// EHOSTUNREACH or ENETUNREACH, as it would without sbx in between.

// unreachableCode is the ICMP code for a host socket's error, if the error
// is one that ICMP reports.
func unreachableCode(err error) (header.ICMPv4Code, bool) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return header.ICMPv4PortUnreachable, true
	case errors.Is(err, syscall.EHOSTUNREACH):
		return header.ICMPv4HostUnreachable, true
	case errors.Is(err, syscall.ENETUNREACH):
		return header.ICMPv4NetUnreachable, true
	}
	return 0, false
}

// sendUnreachable sends the sandbox ICMP destination unreachable with code
// from the address it had sent to, quoting quote: the IPv4 header and the
// first 8 bytes of what followed it, of the packet that could not be
// delivered (RFC 792). The sandbox's kernel finds the socket by the quote.
func (n *Network) sendUnreachable(code header.ICMPv4Code, quote []byte) {
	if len(quote) < header.IPv4MinimumSize+8 {
		return
	}
	orig := header.IPv4(quote)
	sandbox, dst := orig.SourceAddress(), orig.DestinationAddress()
	// No ICMP error about a datagram to many hosts (RFC 1122, 3.2.2).
	if dst == header.IPv4Broadcast || header.IsV4MulticastAddress(dst) {
		return
	}
	r, err := n.stack.FindRoute(nicID, dst, sandbox, ipv4.ProtocolNumber, false)
	if err != nil {
		return
	}
	defer r.Release()
	pkt := make([]byte, header.IPv4MinimumSize+header.ICMPv4MinimumSize+len(quote))
	ip := header.IPv4(pkt)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(pkt)),
		TTL:         64,
		Protocol:    uint8(header.ICMPv4ProtocolNumber),
		SrcAddr:     dst,
		DstAddr:     sandbox,
	})
	icmp := header.ICMPv4(pkt[header.IPv4MinimumSize:])
	icmp.SetType(header.ICMPv4DstUnreachable)
	icmp.SetCode(code)
	copy(icmp[header.ICMPv4MinimumSize:], quote)
	icmp.SetChecksum(^checksum.Checksum(icmp, 0))
	b := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(pkt),
	})
	defer b.DecRef()
	if r.WriteHeaderIncludedPacket(b) == nil {
		n.stack.Stats().ICMP.V4.PacketsSent.DstUnreachable.Increment()
	}
}

// udpQuote is the quote for a datagram of size bytes from the sandbox's
// src to dst: the kernel matches a UDP error by addresses and ports alone,
// so the headers are made anew rather than kept from each datagram.
func udpQuote(src, dst tcpip.FullAddress, size int) []byte {
	q := make([]byte, header.IPv4MinimumSize+header.UDPMinimumSize)
	ip := header.IPv4(q)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(min(len(q)+size, 0xffff)),
		TTL:         64,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     src.Addr,
		DstAddr:     dst.Addr,
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	header.UDP(q[header.IPv4MinimumSize:]).Encode(&header.UDPFields{
		SrcPort: src.Port,
		DstPort: dst.Port,
		Length:  uint16(min(header.UDPMinimumSize+size, 0xffff)),
	})
	return q
}

// synQuotes keeps the quote of each SYN that waits for its host dial. A
// TCP error must quote the SYN's own sequence number, or the sandbox's
// kernel ignores it, and the forwarder's request does not carry the SYN.
type synQuotes struct {
	mu sync.Mutex
	m  map[stack.TransportEndpointID][]byte
}

// maxSynQuotes bounds the table: a SYN the forwarder drops (a flood past
// its bound) leaves its quote behind, until the table is full and starts
// again. A connection whose quote is gone is reset instead.
const maxSynQuotes = 2 * maxPendingTCP

// remember keeps the quote of pkt if it is a SYN.
func (q *synQuotes) remember(id stack.TransportEndpointID, pkt *stack.PacketBuffer) {
	tcp := header.TCP(pkt.TransportHeader().Slice())
	ip := pkt.NetworkHeader().Slice()
	if len(tcp) < 8 || len(ip) < header.IPv4MinimumSize || !tcp.Flags().Contains(header.TCPFlagSyn) || tcp.Flags().Contains(header.TCPFlagAck) {
		return
	}
	quote := make([]byte, 0, len(ip)+8)
	quote = append(append(quote, ip...), tcp[:8]...)
	q.mu.Lock()
	if q.m == nil || len(q.m) >= maxSynQuotes {
		q.m = map[stack.TransportEndpointID][]byte{}
	}
	q.m[id] = quote
	q.mu.Unlock()
}

// take removes and returns the quote of the SYN that opened id.
func (q *synQuotes) take(id stack.TransportEndpointID) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	quote := q.m[id]
	delete(q.m, id)
	return quote
}
