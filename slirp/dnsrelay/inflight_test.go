package dnsrelay

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Once MaxInFlight queries wait on upstreams, the next is answered SERVFAIL
// at once; refused names still get their REFUSED; cancelling the context
// ends the waiting ones and frees their slots.
func TestMaxInFlight(t *testing.T) {
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			quiet := startServer(t, silent)
			lg := &logger{}
			r := newRelay(&testPolicy{}, lg, quiet.addr)
			r.MaxInFlight = 2
			r.Timeout = 10 * time.Second

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			results := make(chan dnsmessage.RCode, 2)
			for i := range 2 {
				wg.Go(func() {
					ans, err := r.Exchange(ctx, newQuery(uint16(100+i), "a.example.", dnsmessage.TypeA, false), proto)
					if err != nil {
						t.Error(err)
						return
					}
					var m dnsmessage.Message
					if err := m.Unpack(ans); err != nil {
						t.Error(err)
						return
					}
					results <- m.Header.RCode
				})
			}
			deadline := time.Now().Add(5 * time.Second)
			for quiet.questions.Load() < 2 {
				if time.Now().After(deadline) {
					t.Fatalf("server saw %d questions, want 2", quiet.questions.Load())
				}
				time.Sleep(5 * time.Millisecond)
			}

			// Should the limit not hold, this one would wait for the
			// silent server; the short context keeps the test short.
			short, cancelShort := context.WithTimeout(context.Background(), time.Second)
			defer cancelShort()
			start := time.Now()
			ans, err := r.Exchange(short, newQuery(200, "a.example.", dnsmessage.TypeA, false), proto)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 200*time.Millisecond {
				t.Errorf("over the limit took %v, want at once", took)
			}
			if m := parse(t, ans); m.Header.RCode != dnsmessage.RCodeServerFailure || m.Header.ID != 200 {
				t.Errorf("over the limit: %+v", m.Header)
			}
			ans, err = r.Exchange(context.Background(), newQuery(201, "x.denied.example.", dnsmessage.TypeA, false), proto)
			if err != nil {
				t.Fatal(err)
			}
			if m := parse(t, ans); m.Header.RCode != dnsmessage.RCodeRefused {
				t.Errorf("refused name while full: %v", m.Header.RCode)
			}
			time.Sleep(50 * time.Millisecond)
			if n := quiet.questions.Load(); n != 2 {
				t.Errorf("server saw %d questions, want the 2 in flight", n)
			}

			start = time.Now()
			cancel()
			wg.Wait()
			close(results)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("cancelled exchanges took %v to end", took)
			}
			for rc := range results {
				if rc != dnsmessage.RCodeServerFailure {
					t.Errorf("cancelled exchange answered %v, want SERVFAIL", rc)
				}
			}
			if n := r.inFlight.Load(); n != 0 {
				t.Errorf("%d slots still held", n)
			}
			if lg.count() != 4 {
				t.Errorf("%d entries, want 4", lg.count())
			}
		})
	}
}
