package slirp

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/sbx-sandbox/sbx/slirp/tap"
)

// polledLink reads the TAP through Go's network poller and delivers each
// frame to the stack from the reading goroutine; writes, and everything
// else, are fdbased's (the wrapped endpoint, which is never attached, so
// its own reader never starts).
//
// fdbased's reader blocks in ppoll(2) between frames. A goroutine in a
// system call keeps its processor (P) until the runtime's monitor, sysmon,
// takes it back, and a frame usually makes other goroutines runnable just
// before the reader blocks again: they wait on that P until sysmon hands
// it off, and every hand-off resets sysmon's tick to 20 µs. With one
// connection at a time, sysmon's own wake-ups were the parent's largest
// cost (14 % of its CPU, with 21 context switches per request). A reader
// parked in the poller holds no P: what the frame woke runs at once, and
// sysmon backs off.
type polledLink struct {
	stack.LinkEndpoint
	file *os.File // a non-blocking duplicate of the TAP, in the poller
	addr tcpip.LinkAddress

	frames atomic.Uint64 // read so far, for Network.settle

	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	stopped    chan struct{} // closed when the reader has returned
}

// A frame is read into two buffers (frameBuffer): a small one first, so
// that a handshake or an ACK takes a small chunk of the pool, then the
// rest of the largest frame the TAP can carry.
const (
	smallFrame  = 2 << 10
	tapFrameMax = tap.MTU + header.EthernetMinimumSize
)

func newPolledLink(ep stack.LinkEndpoint, tapFD int, addr tcpip.LinkAddress) (*polledLink, error) {
	fd, err := unix.FcntlInt(uintptr(tapFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("dup the TAP", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("set the TAP non-blocking", err)
	}
	// os.NewFile registers a non-blocking descriptor with the poller.
	return &polledLink{LinkEndpoint: ep, file: os.NewFile(uintptr(fd), "tap"), addr: addr}, nil
}

// Attach starts the reader for d, or, with nil, stops it and waits for
// it (the NIC is being removed).
func (l *polledLink) Attach(d stack.NetworkDispatcher) {
	l.mu.Lock()
	if d == nil {
		stopped := l.stopped
		l.dispatcher = nil
		l.mu.Unlock()
		if stopped != nil {
			l.file.SetReadDeadline(time.Unix(1, 0))
			<-stopped
		}
		return
	}
	defer l.mu.Unlock()
	if l.dispatcher != nil || l.stopped != nil {
		return
	}
	l.dispatcher = d
	l.stopped = make(chan struct{})
	go l.read(d, l.stopped)
}

func (l *polledLink) IsAttached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dispatcher != nil
}

// Wait waits for the reader to return.
func (l *polledLink) Wait() {
	l.mu.Lock()
	stopped := l.stopped
	l.mu.Unlock()
	if stopped != nil {
		<-stopped
	}
}

// Close closes the reader's duplicate of the TAP; the TAP itself is the
// caller's.
func (l *polledLink) Close() {
	l.Attach(nil)
	l.file.Close()
	l.LinkEndpoint.Close()
}

// read delivers frames until the reader is stopped or the TAP fails.
func (l *polledLink) read(d stack.NetworkDispatcher, stopped chan struct{}) {
	defer close(stopped)
	rc, err := l.file.SyscallConn()
	if err != nil {
		return
	}
	var fb frameBuffer
	defer fb.release()
	var iov [2]unix.Iovec
	var n int
	var rerr error
	// Raw: see rawsys.go.
	readFrame := func(fd uintptr) bool {
		n, rerr = rawReadv(int(fd), iov[:], fb.next())
		return rerr != unix.EAGAIN
	}
	for {
		err := rc.Read(readFrame)
		if err != nil {
			return // stopped (the deadline) or closed
		}
		if errors.Is(rerr, unix.EINTR) {
			continue
		}
		if rerr != nil || n == 0 {
			return
		}
		l.frames.Add(1)
		l.deliver(d, fb.take(n))
	}
}

// deliver hands one frame to the stack: Ethernet frames for the stack's
// address or a group address, as a NIC would take.
func (l *polledLink) deliver(d stack.NetworkDispatcher, payload buffer.Buffer) {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: payload})
	defer pkt.DecRef()
	hdr, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	if !ok {
		return
	}
	eth := header.Ethernet(hdr)
	if dst := eth.DestinationAddress(); dst != l.addr && dst[0]&1 == 0 {
		return
	}
	pkt.NetworkProtocolNumber = eth.Type()
	d.DeliverNetworkPacket(eth.Type(), pkt)
}

// frameBuffer is the pair of views one frame is read into. take passes
// the views that hold the frame to its packet and makes new ones for the
// next read.
type frameBuffer struct {
	views  [2]*buffer.View
	iovecs [2][]byte
}

func (b *frameBuffer) next() [][]byte {
	sizes := [2]int{smallFrame, tapFrameMax - smallFrame}
	for i, v := range b.views {
		if v == nil {
			v = buffer.NewViewSize(sizes[i])
			b.views[i] = v
		}
		b.iovecs[i] = v.AsSlice()
	}
	return b.iovecs[:]
}

func (b *frameBuffer) take(n int) buffer.Buffer {
	var out buffer.Buffer
	for i, v := range b.views {
		if n == 0 {
			break
		}
		size := min(n, v.Size())
		v.CapLength(size)
		out.Append(v)
		b.views[i] = nil
		n -= size
	}
	return out
}

func (b *frameBuffer) release() {
	for i, v := range b.views {
		if v != nil {
			v.Release()
			b.views[i] = nil
		}
	}
}
