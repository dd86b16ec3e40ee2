package slirp

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// goroutineID is the calling goroutine's number, from its stack trace.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	// "goroutine 18 [running]:..."
	for i := len("goroutine "); i < len(buf); i++ {
		if buf[i] == ' ' {
			return string(buf[len("goroutine "):i])
		}
	}
	return ""
}

func waitIdle(t *testing.T, w *workers, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.idle.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle workers, want %d", w.idle.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWorkersReuseAnIdleGoroutine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorkers(ctx, 2)
	ids := make(chan string, 1)
	w.do(func() { ids <- goroutineID() })
	first := <-ids
	waitIdle(t, w, 1)
	w.do(func() { ids <- goroutineID() })
	if second := <-ids; second != first {
		t.Fatalf("the second job ran on goroutine %s, not on the idle %s", second, first)
	}
}

func TestWorkersKeepAtMostTheirShare(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorkers(ctx, 2)
	release := make(chan struct{})
	for range 5 {
		w.do(func() { <-release })
	}
	close(release)
	waitIdle(t, w, 2)
	time.Sleep(20 * time.Millisecond)
	if n := w.idle.Load(); n != 2 {
		t.Fatalf("%d kept idle, want 2", n)
	}
	cancel()
	waitIdle(t, w, 0)
}
