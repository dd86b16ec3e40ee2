package hostfs

import (
	"sync"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// The kernel sends requests concurrently, and go-fuse serves each on its
// own goroutine: the same nodes looked up, read, listed and stat'ed at
// once must answer as they do one at a time. Run under -race, this is the
// check that no request writes what another reads (GETATTR once stored
// the attributes it fetched in the node that READ, LOOKUP and READDIRPLUS
// read unlocked).
func TestConcurrentRequests(t *testing.T) {
	_, root, _ := resolveTree(t)
	v := newTestFS(t, root, Config{})
	g := v.mustLookup(rootID, "g")
	d := v.mustLookup(rootID, "d")
	f := v.mustLookup(d, "f")
	// The goroutines share v's lookup counts: each keeps its own, added
	// in at the end.
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []string
	fail := func(e string) {
		mu.Lock()
		errs = append(errs, e)
		mu.Unlock()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &tfs{t: t, raw: v.raw, top: v.top, count: map[uint64]uint64{}}
			for range 100 {
				if _, st := w.getattr(g); st != fuse.OK {
					fail("getattr g: " + st.String())
				}
				if _, st := w.getattr(d); st != fuse.OK {
					fail("getattr d: " + st.String())
				}
				if data, st := w.read(g, 0, 0, 100); st != fuse.OK || string(data) != "inside g\n" {
					fail("read g: " + st.String() + " " + string(data))
				}
				if id, _, st := w.lookup(d, "f"); st != fuse.OK || id != f {
					fail("lookup d/f: " + st.String())
				}
				if names, _, st := w.readdirplus(d); st != fuse.OK || !contains(names, "f") {
					fail("listing d: " + st.String())
				}
			}
			mu.Lock()
			for id, n := range w.count {
				v.count[id] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, e := range errs[:min(len(errs), 10)] {
		t.Error(e)
	}
}
