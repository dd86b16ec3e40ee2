package slirp

import (
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// txQueue is what the stack sends through to the TAP: a queue with a
// goroutine of its own that writes the frames, except those the sending
// goroutine writes itself (see WritePacket).
//
// Writing a frame to a TAP runs the sandbox kernel's receive path in the
// writer's thread. Without the queue, the goroutine that copies a download
// out of the host socket pays for that too, and the transfer runs on one
// CPU (host → sandbox about 4.5 → 6 Gbit/s with the queue; two queues
// were slower than one).
type txQueue struct {
	link stack.LinkWriter
	// wake tells the writer that frames wait (capacity 1: one signal
	// covers any number of them).
	wake chan struct{}
	done chan struct{}

	mu      sync.Mutex
	waiting stack.PacketBufferList // in order, at most qdiscLen
	// busy: a frame is being written, by the writer or inline; while it
	// is, every other frame but a pure ACK waits, so frames leave in the
	// order they came.
	busy   bool
	closed bool
}

// inlineMax is the largest payload a sending goroutine writes itself
// when nothing waits: a handshake, a request or reply of a few hundred
// bytes, a FIN. A hand-off to the writer costs a wake-up of another
// thread, often of an idle vCPU, on the path of every small exchange;
// bulk segments (tens of KiB) still go through the writer, which keeps the
// sandbox kernel's receive work off the copying goroutine.
const inlineMax = 2 << 10

func newTxQueue(link stack.LinkWriter) *txQueue {
	q := &txQueue{link: link, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.writer()
	return q
}

// WritePacket sends pkt to the TAP: at once in this goroutine for a pure
// ACK (it carries no data and no flag whose order matters, so it may pass
// the frames still waiting; an upload sends only ACKs, and a hand-off for
// each cost it up to a tenth), and for a small frame when no frame waits
// or is being written; through the writer otherwise.
func (q *txQueue) WritePacket(pkt *stack.PacketBuffer) tcpip.Error {
	if pureACK(pkt) {
		return q.writeNow(pkt)
	}
	q.mu.Lock()
	switch {
	case q.closed:
		q.mu.Unlock()
		return &tcpip.ErrClosedForSend{}
	case !q.busy && q.waiting.Len() == 0 && pkt.Data().Size() <= inlineMax:
		q.busy = true
		q.mu.Unlock()
		err := q.writeNow(pkt)
		q.mu.Lock()
		q.busy = false
		more := q.waiting.Len() > 0
		q.mu.Unlock()
		if more {
			q.signal()
		}
		return err
	case q.waiting.Len() >= qdiscLen:
		q.mu.Unlock()
		// As at a full device queue: TCP sends it again later.
		return &tcpip.ErrNoBufferSpace{}
	}
	q.waiting.PushBack(pkt.IncRef())
	q.mu.Unlock()
	q.signal()
	return nil
}

func (q *txQueue) writeNow(pkt *stack.PacketBuffer) tcpip.Error {
	var pkts stack.PacketBufferList
	pkts.PushBack(pkt)
	_, err := q.link.WritePackets(pkts)
	return err
}

func (q *txQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// writer writes the waiting frames, in order, until Close.
func (q *txQueue) writer() {
	defer close(q.done)
	var batch stack.PacketBufferList
	for range q.wake {
		for {
			q.mu.Lock()
			if q.closed || q.busy || q.waiting.Len() == 0 {
				// busy: the inline writer signals when it is done.
				q.mu.Unlock()
				break
			}
			// All that waits, in one go; batch is empty and keeps
			// its capacity for the next turn.
			batch, q.waiting = q.waiting, batch
			q.busy = true
			q.mu.Unlock()
			q.link.WritePackets(batch)
			batch.Reset() // drops the queue's references
			q.mu.Lock()
			q.busy = false
			q.mu.Unlock()
		}
		if q.isClosed() {
			return
		}
	}
}

func (q *txQueue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// Close drops what still waits and stops the writer.
func (q *txQueue) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.waiting.Reset()
	q.mu.Unlock()
	q.signal()
	<-q.done
}

// pureACK reports whether pkt is a TCP segment with no payload and no
// flag but ACK.
func pureACK(pkt *stack.PacketBuffer) bool {
	if pkt.TransportProtocolNumber != header.TCPProtocolNumber || pkt.Data().Size() != 0 {
		return false
	}
	h := header.TCP(pkt.TransportHeader().Slice())
	return len(h) >= header.TCPMinimumSize && h.Flags() == header.TCPFlagAck
}
