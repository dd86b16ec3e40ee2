package slirp

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// txQueue is what the stack sends through to the TAP: a queue with a
// goroutine of its own that writes the frames, except pure ACKs, which
// the sending goroutine writes itself.
//
// Writing a frame to a TAP runs the sandbox kernel's receive path in the
// writer's thread. Without the queue, the goroutine that copies a download
// out of the host socket pays for that too, and the transfer runs on one
// CPU (host → sandbox about 4.5 → 6 Gbit/s with the queue; two queues
// were slower than one). An upload sends only ACKs, and a hand-off for
// each cost it up to a tenth; an ACK carries no data and no flag whose
// order matters, so it may pass the frames still queued.
type txQueue struct {
	link  stack.LinkWriter
	queue stack.QueueingDiscipline
}

func newTxQueue(link stack.LinkWriter) *txQueue {
	return &txQueue{link: link, queue: fifo.New(link, 1, qdiscLen)}
}

func (q *txQueue) WritePacket(pkt *stack.PacketBuffer) tcpip.Error {
	if !pureACK(pkt) {
		return q.queue.WritePacket(pkt)
	}
	var pkts stack.PacketBufferList
	pkts.PushBack(pkt)
	_, err := q.link.WritePackets(pkts)
	return err
}

func (q *txQueue) Close() { q.queue.Close() }

// pureACK reports whether pkt is a TCP segment with no payload and no
// flag but ACK.
func pureACK(pkt *stack.PacketBuffer) bool {
	if pkt.TransportProtocolNumber != header.TCPProtocolNumber || pkt.Data().Size() != 0 {
		return false
	}
	h := header.TCP(pkt.TransportHeader().Slice())
	return len(h) >= header.TCPMinimumSize && h.Flags() == header.TCPFlagAck
}
