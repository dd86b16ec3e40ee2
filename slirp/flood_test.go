package slirp

import (
	"context"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// A flood of connections from inside, to a destination whose host dial
// never completes, meets the bounds: sbx holds at most maxPendingTCP of
// them, its memory stays bounded, and a connection already open keeps
// working throughout.
func TestTCPFloodIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 3000 connections; -short")
	}
	tn := newTestNet(t, policy.Options{}, Config{})
	tn.dialer.route["tcp 203.0.113.7:80"] = tcpEcho(t)
	blocked := make(chan struct{})
	defer close(blocked)
	var pending sync.WaitGroup
	realDial := tn.dialer.dial
	var mu sync.Mutex
	waiting, most := 0, 0
	tn.net.cfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		if address == "198.51.100.1:80" {
			mu.Lock()
			waiting++
			most = max(most, waiting)
			mu.Unlock()
			defer func() { mu.Lock(); waiting--; mu.Unlock() }()
			select { // a host that never answers
			case <-blocked:
			case <-ctx.Done():
			}
			return nil, errRefused
		}
		return realDial(ctx, network, address)
	}
	open, err := tn.dialTCP("203.0.113.7:80")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	const flood = 3000
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for i := 0; i < flood; i++ {
		pending.Add(1)
		go func() {
			defer pending.Done()
			if c, err := tn.dialTCPContext(ctx, "198.51.100.1:80"); err == nil {
				c.Close()
			}
		}()
	}
	// Meanwhile the open connection carries data.
	for i := 0; i < 20; i++ {
		msg := []byte("still working")
		if _, err := open.Write(msg); err != nil {
			t.Fatal(err)
		}
		open.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(open, got); err != nil {
			t.Fatalf("the open connection during the flood: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pending.Wait()
	mu.Lock()
	if most > maxPendingTCP || most < maxPendingTCP/2 {
		t.Errorf("%d host dials waited at once, want the bound %d to hold (and be reached)", most, maxPendingTCP)
	}
	mu.Unlock()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Both stacks live in this process; the sandbox's side holds an
	// endpoint per attempt too. 64 MiB bounds them together.
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 64<<20 {
		t.Errorf("heap grew by %d MiB during a flood of %d connections", grown>>20, flood)
	}
}
