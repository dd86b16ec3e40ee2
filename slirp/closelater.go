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
	mu      sync.Mutex
	pending []*hostConn
	timer   *time.Timer
	closed  bool
}

// At most closeBatch sockets wait, for at most closeDelay: the
// descriptors held past their connection's end stay within the spare
// share of the limit on open files (internal/fdlimit).
const (
	closeBatch = 64
	closeDelay = 20 * time.Millisecond
)

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
	case len(l.pending) >= closeBatch:
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
