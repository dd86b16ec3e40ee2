package slirp

import (
	"sync"
	"time"
)

// liveSet counts what the network is serving: relayed connections and
// flows, published ones, DNS questions. Each logs itself when it ends,
// and the run's summary is read once the network is closed, so Close
// waits for them (see closeAndWait); after Close nothing new enters.
type liveSet struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// enter counts one more, unless the network is closing.
func (s *liveSet) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *liveSet) leave() { s.wg.Done() }

// closeAndWait lets nothing new in and waits for what is served to end,
// for at most limit: everything has been told to stop by then (relays
// aborted, dials cancelled, the stack closed), so only a stuck host call
// could hold it, and sbx's exit must not wait on that.
func (s *liveSet) closeAndWait(limit time.Duration) bool {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
