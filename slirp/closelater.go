package slirp

import (
	"sync"
	"time"
)

// closeLater closes the host sockets of connections that have ended
// cleanly in batches, a little after their end.
//
// A connection that ended cleanly has exchanged both FINs with the host:
// closing its socket only frees it, and nothing on the wire waits for it.
// But a close, unlike the raw calls of the relay (rawsys.go), goes through
// Go's poller and enters the kernel the usual way, which wakes the
// runtime's monitor when the process was idle; with one request at a
// time, that was a monitor wake-up for every request. Closed in a batch,
// it is one for many. A reset (abort) still closes at once.
type closeLater struct {
	batch   int // closed together once so many wait
	mu      sync.Mutex
	pending []*hostConn
	timer   *time.Timer
	closed  bool
}

// At most closeBatch sockets wait, and at most a sixteenth of the TCP
// connections' share of the limit on open files (internal/fdlimit), for
// at most closeDelay: what is held past a connection's end stays well
// within the twelfth of the limit that the shares leave spare.
const (
	closeBatch = 64
	closeDelay = 20 * time.Millisecond
)

// newCloseLater batches the closes of sockets counted against a share of
// tcpShare descriptors.
func newCloseLater(tcpShare int) *closeLater {
	return &closeLater{batch: min(closeBatch, max(1, tcpShare/16))}
}

// add closes c with the next batch.
func (l *closeLater) add(c *hostConn) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		c.Close()
		return
	}
	l.pending = append(l.pending, c)
	var batch []*hostConn
	switch {
	case len(l.pending) >= l.batch:
		batch = l.takeLocked()
	case len(l.pending) == 1:
		if l.timer == nil {
			l.timer = time.AfterFunc(closeDelay, l.flush)
		} else {
			l.timer.Reset(closeDelay)
		}
	}
	l.mu.Unlock()
	closeAll(batch)
}

// flush closes what waits.
func (l *closeLater) flush() {
	l.mu.Lock()
	batch := l.takeLocked()
	l.mu.Unlock()
	closeAll(batch)
}

// stop closes what waits, and from now on add closes at once.
func (l *closeLater) stop() {
	l.mu.Lock()
	l.closed = true
	batch := l.takeLocked()
	l.mu.Unlock()
	closeAll(batch)
}

func (l *closeLater) takeLocked() []*hostConn {
	batch := l.pending
	l.pending = nil
	if l.timer != nil {
		l.timer.Stop()
	}
	return batch
}

func closeAll(cs []*hostConn) {
	for _, c := range cs {
		c.Close()
	}
}

// waiting reports how many sockets wait, for tests.
func (l *closeLater) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}
