package slirp

import (
	"context"
	"sync/atomic"
)

// workers runs each connection's handling on a goroutine kept from an
// earlier connection.
//
// A new goroutine starts with a small stack, and a relayed connection
// goes deep: the dial, the stack's handshake down to the write on the TAP,
// the relay's reads and writes. Every connection's goroutines grew their
// stacks four or five times, each growth a copy of the stack and a walk of
// its frames: 6 % of the parent's CPU with one connection at a time. A
// kept goroutine has grown already.
type workers struct {
	ctx  context.Context // ends the kept goroutines
	jobs chan func()     // unbuffered: a send succeeds only to an idle worker
	idle atomic.Int32
	keep int32 // at most so many are kept idle; the rest return
}

func newWorkers(ctx context.Context, keep int) *workers {
	return &workers{ctx: ctx, jobs: make(chan func()), keep: int32(keep)}
}

// do runs f on an idle worker, or on a new one if none is idle.
func (w *workers) do(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	for {
		f()
		if w.idle.Add(1) > w.keep {
			w.idle.Add(-1)
			return
		}
		select {
		case f = <-w.jobs:
			w.idle.Add(-1)
		case <-w.ctx.Done():
			w.idle.Add(-1)
			return
		}
	}
}
