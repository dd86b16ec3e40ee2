package slirp

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// A connection's copy buffers start small and grow once a read fills one:
// an idle or chatty connection holds 16 KiB each way, a bulk transfer
// moves 256 KiB per system call on the host side.
const (
	smallBuffer = 16 << 10
	bigBuffer   = 256 << 10
)

var (
	smallBuffers = sync.Pool{New: func() any { b := make([]byte, smallBuffer); return &b }}
	bigBuffers   = sync.Pool{New: func() any { b := make([]byte, bigBuffer); return &b }}
)

// end is one side of a relayed connection.
type end struct {
	conn net.Conn
	// abort closes the side with a reset, so that a reset on one side
	// reaches the other as a reset, not as an orderly end.
	abort func()
	// finish, when set, runs after an orderly end, before the close.
	finish func()
}

// sandboxEnd is the side in the stack; the endpoint is reset by closing
// it with a zero linger, as a socket is.
func sandboxEnd(c *gonet.TCPConn, ep tcpip.Endpoint) end {
	return end{
		conn: c,
		abort: func() {
			ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true})
			c.Close()
		},
		finish: func() { endTimeWait(ep) },
	}
}

// endTimeWait drops a connection that ended in TIME-WAIT at once. The
// sandbox's kernel, which closed second, holds no TIME-WAIT of its own and
// may pick the same port for its next connection; the stack would drop
// that SYN (it passes a new SYN in TIME-WAIT only to a listener, and the
// forwarder is none) and the command would wait a second for its retry.
// Both sides have acknowledged everything by then: the reset this sends
// reaches a closed socket.
func endTimeWait(ep tcpip.Endpoint) {
	if tcp.EndpointState(ep.State()) == tcp.StateTimeWait {
		ep.Abort()
	}
}

// hostEnd is a host socket.
func hostEnd(c net.Conn) end {
	return end{conn: c, abort: func() {
		if tc, ok := c.(interface{ SetLinger(int) error }); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}}
}

type closeWriter interface{ CloseWrite() error }

// relay copies both ways until both sides have finished, carrying a
// half-close (FIN) across as a half-close and a reset as a reset. It
// returns the bytes carried from a to b and from b to a. Close of the
// network aborts it.
func (n *Network) relay(a, b end) (aToB, bToA int64) {
	var once sync.Once
	abortBoth := func() {
		once.Do(func() {
			a.abort()
			b.abort()
		})
	}
	unregister := n.onClose(abortBoth)
	defer unregister()
	var ab, ba atomic.Int64
	// One direction on a worker of its own, the other on this one.
	done := make(chan struct{})
	n.work.do(func() { defer close(done); pipe(a, b, &ba, abortBoth) })
	pipe(b, a, &ab, abortBoth)
	<-done
	once.Do(func() {
		for _, e := range []end{a, b} {
			if e.finish != nil {
				e.finish()
			}
			if hc, ok := e.conn.(*hostConn); ok {
				n.closing.add(hc)
			} else {
				e.conn.Close()
			}
		}
	})
	return ab.Load(), ba.Load()
}

// pipe copies src to dst. At src's end of stream it half-closes dst; on
// any error (a reset, a failed write) it aborts both sides.
func pipe(dst, src end, count *atomic.Int64, abortBoth func()) {
	bp := smallBuffers.Get().(*[]byte)
	big := false
	defer func() {
		if big {
			bigBuffers.Put(bp)
		} else {
			smallBuffers.Put(bp)
		}
	}()
	for {
		buf := *bp
		nr, rerr := src.conn.Read(buf)
		if nr > 0 {
			if _, werr := dst.conn.Write(buf[:nr]); werr != nil {
				abortBoth()
				return
			}
			count.Add(int64(nr))
			if nr == len(buf) && !big {
				smallBuffers.Put(bp)
				bp, big = bigBuffers.Get().(*[]byte), true
			}
		}
		if errors.Is(rerr, io.EOF) {
			if cw, ok := dst.conn.(closeWriter); ok {
				cw.CloseWrite()
			}
			return
		}
		if rerr != nil {
			abortBoth()
			return
		}
	}
}
