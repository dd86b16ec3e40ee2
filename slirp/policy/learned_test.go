package policy

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

// nthAddr is the n-th address of 2001:db8::/32, for filling tables.
func nthAddr(n int) netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	b[12], b[13], b[14], b[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return netip.AddrFrom16(b)
}

// checkConsistent checks that the table's three structures agree, which is
// what makes counting pairs a count of what the table holds.
func checkConsistent(t *testing.T, l *learned) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	names := 0
	for a, ns := range l.byAddr {
		if len(ns) == 0 || len(ns) > maxNamesPerAddr {
			t.Errorf("%s holds %d names", a, len(ns))
		}
		for _, n := range ns {
			if _, ok := l.index[pair{a, n}]; !ok {
				t.Errorf("%s -> %q is not indexed", a, n)
			}
		}
		names += len(ns)
	}
	if names != len(l.index) || l.order.Len() != len(l.index) {
		t.Errorf("byAddr holds %d names, index %d, order %d", names, len(l.index), l.order.Len())
	}
	if len(l.index) > l.max {
		t.Errorf("table holds %d pairs, more than its bound %d", len(l.index), l.max)
	}
}

func TestLearnedTableIsBounded(t *testing.T) {
	p := mustPolicy(t, false)
	flood := make([]netip.Addr, maxLearned+1000)
	for i := range flood {
		flood[i] = nthAddr(i)
	}
	p.Learn("flood.example", flood)
	if n := p.learned.len(); n != maxLearned {
		t.Fatalf("after %d addresses the table holds %d pairs, want the bound %d", len(flood), n, maxLearned)
	}
	checkConsistent(t, p.learned)
	oldest, newest := flood[0], flood[len(flood)-1]
	if v := p.Dial("tcp", netip.AddrPortFrom(oldest, 443)); v.Name != "" {
		t.Errorf("the oldest address is still known as %q", v.Name)
	}
	if v := p.Dial("tcp", netip.AddrPortFrom(newest, 443)); v.Name != "flood.example" {
		t.Errorf("the newest address is known as %q", v.Name)
	}
	// Many names, one address each, on a smaller table so that the race
	// detector's run stays short: still bounded, still the oldest leaving.
	p.learned = newLearned(1000)
	for i := range 1500 {
		p.Learn(fmt.Sprintf("n%d.flood.example", i), []netip.Addr{nthAddr(i)})
	}
	if n := p.learned.len(); n != 1000 {
		t.Errorf("after a flood of names the table holds %d pairs, want 1000", n)
	}
	if v := p.Dial("tcp", netip.AddrPortFrom(nthAddr(499), 443)); v.Name != "" {
		t.Errorf("an evicted address is still known as %q", v.Name)
	}
	if v := p.Dial("tcp", netip.AddrPortFrom(nthAddr(500), 443)); v.Name != "n500.flood.example" {
		t.Errorf("the oldest kept address is known as %q", v.Name)
	}
	checkConsistent(t, p.learned)
}

func TestLearnedForgetsLeastRecentlyLearned(t *testing.T) {
	l := newLearned(4)
	a := func(n int) netip.Addr { return nthAddr(n) }
	for i := range 4 {
		l.add(a(i), "x")
	}
	l.add(a(0), "x") // refreshed: a(1) is now the oldest
	l.add(a(4), "x")
	for i, want := range []bool{true, false, true, true, true} {
		if got := len(l.names(a(i))) > 0; got != want {
			t.Errorf("address %d known: %v, want %v", i, got, want)
		}
	}
	if l.len() != 4 {
		t.Errorf("len = %d, want 4", l.len())
	}
	checkConsistent(t, l)
}

func TestLearnedNamesPerAddressBounded(t *testing.T) {
	p := mustPolicy(t, false, "*.example.com")
	shared := netip.MustParseAddr("198.51.100.60")
	for i := range 3 * maxNamesPerAddr {
		p.Learn(fmt.Sprintf("n%d.example.com", i), []netip.Addr{shared})
	}
	names := p.learned.names(shared)
	if len(names) != maxNamesPerAddr {
		t.Fatalf("%d names kept for one address, want %d", len(names), maxNamesPerAddr)
	}
	if want := fmt.Sprintf("n%d.example.com", 3*maxNamesPerAddr-1); names[0] != want {
		t.Errorf("newest name %q, want %q", names[0], want)
	}
	if n := p.learned.len(); n != maxNamesPerAddr {
		t.Errorf("table holds %d pairs, want %d", n, maxNamesPerAddr)
	}
	checkConsistent(t, p.learned)
	// Re-learning an old name brings it to the front without a duplicate.
	p.Learn(names[len(names)-1], []netip.Addr{shared})
	again := p.learned.names(shared)
	if again[0] != names[len(names)-1] || len(again) != maxNamesPerAddr {
		t.Errorf("after re-learning %q: %v", names[len(names)-1], again)
	}
	checkConsistent(t, p.learned)
}

func TestConcurrentDialAndLearn(t *testing.T) {
	p := mustPolicy(t, false, "*.example.com:443", "10.0.0.0/8")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				name := fmt.Sprintf("h%d.example.com", i%50)
				a := nthAddr(g*10000 + i%100)
				p.Learn(name, []netip.Addr{a})
				if v := p.Dial("tcp", netip.AddrPortFrom(a, 443)); !v.Allow || v.Rule != "*.example.com:443" {
					errs <- fmt.Errorf("learned %s for %s, then Dial = %+v", a, name, v)
					return
				}
				if v := p.Dial("udp", netip.AddrPortFrom(a, 53)); v.Allow {
					errs <- fmt.Errorf("wrong port allowed: %+v", v)
					return
				}
				if v := p.Question(name); !v.Allow {
					errs <- fmt.Errorf("Question(%s) = %+v", name, v)
					return
				}
				if v := p.Dial("tcp", ap("10.1.2.3:5432")); !v.Allow {
					errs <- fmt.Errorf("Dial(10.1.2.3:5432) = %+v", v)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkConsistent(t, p.learned)
}
