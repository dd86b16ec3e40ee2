package slirp

import (
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// recordingLink records the payload size of every frame written, in order,
// and can hold a write until the test lets it go.
type recordingLink struct {
	mu      sync.Mutex
	written []int
	hold    chan struct{} // non-nil: a write of a frame this large waits on it
	holdAt  int
	holding chan struct{} // closed once a write waits
}

func (l *recordingLink) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	for _, p := range pkts.AsSlice() {
		size := p.Data().Size()
		if l.hold != nil && size == l.holdAt {
			close(l.holding)
			<-l.hold
		}
		l.mu.Lock()
		l.written = append(l.written, size)
		l.mu.Unlock()
	}
	return pkts.Len(), nil
}

func (l *recordingLink) frames() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.written...)
}

// frame is a UDP-like frame (no TCP header) with a payload of size bytes.
func frame(size int) *stack.PacketBuffer {
	return stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(make([]byte, size))})
}

// pureACKFrame is a TCP segment with no payload and only ACK set.
func pureACKFrame() *stack.PacketBuffer {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: header.TCPMinimumSize})
	h := header.TCP(pkt.TransportHeader().Push(header.TCPMinimumSize))
	h.Encode(&header.TCPFields{DataOffset: header.TCPMinimumSize, Flags: header.TCPFlagAck})
	pkt.TransportProtocolNumber = header.TCPProtocolNumber
	return pkt
}

func waitFrames(t *testing.T, l *recordingLink, n int) []int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := l.frames(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("frames written: %v, want %d", l.frames(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A small frame with nothing waiting is written before WritePacket
// returns, by the sending goroutine; a bulk one goes through the writer.
func TestSmallFramesAreWrittenInline(t *testing.T) {
	link := &recordingLink{}
	q := newTxQueue(link)
	defer q.Close()
	for _, size := range []int{0, 100, inlineMax} {
		pkt := frame(size)
		if err := q.WritePacket(pkt); err != nil {
			t.Fatal(err)
		}
		pkt.DecRef()
		if got := link.frames(); len(got) == 0 || got[len(got)-1] != size {
			t.Fatalf("a %d-byte frame with nothing waiting: written %v when WritePacket returned, want it last", size, got)
		}
	}

	link = &recordingLink{hold: make(chan struct{}), holdAt: 60000, holding: make(chan struct{})}
	q2 := newTxQueue(link)
	defer q2.Close()
	big := frame(60000)
	returned := make(chan struct{})
	go func() { q2.WritePacket(big); close(returned) }()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("WritePacket of a bulk frame waited for the link: it must go through the writer")
	}
	big.DecRef()
	<-link.holding
	close(link.hold)
	waitFrames(t, link, 1)
}

// Frames leave in the order they came: while the writer is busy with a bulk
// frame, a small one waits behind it rather than being written inline, and
// a pure ACK may pass both.
func TestFramesKeepTheirOrder(t *testing.T) {
	link := &recordingLink{hold: make(chan struct{}), holdAt: 60000, holding: make(chan struct{})}
	q := newTxQueue(link)
	defer q.Close()
	send := func(pkt *stack.PacketBuffer) {
		t.Helper()
		if err := q.WritePacket(pkt); err != nil {
			t.Fatal(err)
		}
		pkt.DecRef()
	}
	send(frame(60000))
	<-link.holding // the writer is in the middle of it
	send(frame(100))
	send(frame(200))
	send(pureACKFrame())
	if got := link.frames(); len(got) != 1 || got[0] != 0 {
		t.Fatalf("while the writer is busy: written %v, want only the pure ACK", got)
	}
	close(link.hold)
	got := waitFrames(t, link, 4)
	want := []int{0, 60000, 100, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("frames written %v, want %v", got, want)
		}
	}
}

// A full queue refuses, as a full device queue does, and Close drops what
// waits and stops the writer.
func TestQueueBoundsAndClose(t *testing.T) {
	link := &recordingLink{hold: make(chan struct{}), holdAt: 60000, holding: make(chan struct{})}
	q := newTxQueue(link)
	first := frame(60000)
	q.WritePacket(first)
	first.DecRef()
	<-link.holding
	for i := 0; i < qdiscLen; i++ {
		pkt := frame(1)
		if err := q.WritePacket(pkt); err != nil {
			t.Fatalf("frame %d of %d: %v", i+1, qdiscLen, err)
		}
		pkt.DecRef()
	}
	over := frame(1)
	if _, ok := q.WritePacket(over).(*tcpip.ErrNoBufferSpace); !ok {
		t.Fatal("a frame beyond qdiscLen was taken")
	}
	over.DecRef()
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	for !q.isClosed() {
		time.Sleep(time.Millisecond)
	}
	close(link.hold) // the writer finishes the frame it holds, and stops
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	after := frame(1)
	if _, ok := q.WritePacket(after).(*tcpip.ErrClosedForSend); !ok {
		t.Fatal("a frame after Close was taken")
	}
	after.DecRef()
	if got := link.frames(); len(got) != 1 {
		t.Fatalf("%d frames written; want only the one being written at Close", len(got))
	}
}
