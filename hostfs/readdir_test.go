package hostfs

import (
	"fmt"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// chunkLister is one directory listed a request at a time, as the kernel does:
// each request from the offset the last one ended at.
type chunkLister struct {
	v     *tfs
	id    uint64
	plus  bool
	off   uint64
	names map[string]int
	done  bool
}

func (c *chunkLister) step(t *testing.T, size int) {
	t.Helper()
	var names []string
	var next uint64
	if c.plus {
		n, _, o, st := c.v.readdirplusAt(c.id, 0, c.off, size)
		if st != fuse.OK {
			t.Fatalf("READDIRPLUS of node %d at %d: %v", c.id, c.off, st)
		}
		names, next = n, o
	} else {
		n, o, st := c.v.readdirAt(c.id, 0, c.off, size)
		if st != fuse.OK {
			t.Fatalf("READDIR of node %d at %d: %v", c.id, c.off, st)
		}
		names, next = n, o
	}
	if len(names) == 0 {
		c.done = true
		return
	}
	for _, n := range names {
		c.names[n]++
	}
	c.off = next
}

// check fails unless the listing held each of want once, and nothing else.
func (c *chunkLister) check(t *testing.T, what string, want []string) {
	t.Helper()
	for _, n := range want {
		if c.names[n] != 1 {
			t.Errorf("%s: %q listed %d times", what, n, c.names[n])
		}
		delete(c.names, n)
	}
	if len(c.names) > 0 {
		t.Errorf("%s: listed %v besides", what, c.names)
	}
}

// Listings a request at a time, several at once, READDIR and READDIRPLUS,
// restarted and abandoned: each lists every entry once, and the
// directories the server keeps open between requests are closed at the
// end of a listing and on FORGET.
func TestListingInChunks(t *testing.T) {
	root := manyTree(t, 2, 1000)
	v := newTestFS(t, root, Config{})
	fds0 := openFDs(t)
	want := [2][]string{{".", ".."}, {".", ".."}}
	for i := range 1000 {
		want[i%2] = append(want[i%2], fmt.Sprintf("f%04d", i))
	}
	d := [2]uint64{v.mustLookup(rootID, "d000"), v.mustLookup(rootID, "d001")}
	cursors := func() int64 { return v.top.v.cursors.Load() }

	// Both at once, interleaved: d000 with READDIRPLUS, d001 with READDIR.
	a := &chunkLister{v: v, id: d[0], plus: true, names: map[string]int{}}
	b := &chunkLister{v: v, id: d[1], names: map[string]int{}}
	for steps := 0; !a.done || !b.done; steps++ {
		if steps > 1000 {
			t.Fatal("the listings do not end")
		}
		if !a.done {
			a.step(t, 2048)
		}
		if !b.done {
			b.step(t, 512)
		}
		if steps == 2 && cursors() != 2 {
			t.Errorf("two listings in progress keep %d directories open", cursors())
		}
	}
	a.check(t, "d000 (READDIRPLUS)", want[0])
	b.check(t, "d001 (READDIR)", want[1])
	if cursors() != 0 {
		t.Errorf("%d directories kept open after the listings ended", cursors())
	}

	// Restarted from the start (rewinddir) after a few requests, and from
	// an offset the listing gave earlier (seekdir).
	a = &chunkLister{v: v, id: d[0], plus: true, names: map[string]int{}}
	a.step(t, 2048)
	a.step(t, 2048)
	mark, seen := a.off, len(a.names)
	a.step(t, 2048)
	a.off, a.names = 0, map[string]int{}
	for !a.done {
		a.step(t, 4096)
	}
	a.check(t, "d000 restarted", want[0])
	a = &chunkLister{v: v, id: d[0], plus: true, names: map[string]int{}, off: mark}
	for !a.done {
		a.step(t, 4096)
	}
	if len(a.names) != len(want[0])-seen {
		t.Errorf("d000 from an earlier offset: %d names, want %d", len(a.names), len(want[0])-seen)
	}

	// Abandoned halfway: kept open until the directory is forgotten.
	b = &chunkLister{v: v, id: d[1], names: map[string]int{}}
	b.step(t, 512)
	if cursors() != 1 {
		t.Errorf("an abandoned listing keeps %d directories open, want 1", cursors())
	}
	v.forgetAll()
	if cursors() != 0 || v.live() != 0 || v.heldDirs() != 0 {
		t.Errorf("after FORGET of every node: %d listings, %d nodes, %d directories kept", cursors(), v.live(), v.heldDirs())
	}
	if fds := openFDs(t); fds > fds0+fdSlack {
		t.Errorf("descriptors: %d before, %d after", fds0, fds)
	}
}
