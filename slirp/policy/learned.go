package policy

import (
	"container/list"
	"net/netip"
	"slices"
	"sync"
)

const (
	// maxLearned bounds the (address, name) pairs kept for a run. A build
	// resolves a few hundred names; the bound is for a command that floods
	// the resolver, and holds the table to a few tens of MiB at worst.
	maxLearned = 65536
	// maxNamesPerAddr bounds the names kept for one address, so that a
	// wildcard zone answering every name with one address costs a short
	// scan per connection rather than one as long as the table.
	maxNamesPerAddr = 16
)

type pair struct {
	addr netip.Addr
	name string
}

// learned maps addresses to the names the built-in DNS resolved to them,
// forgetting the least recently learned pair once full.
type learned struct {
	mu     sync.Mutex
	max    int
	order  list.List // of pair, least recently learned first
	index  map[pair]*list.Element
	byAddr map[netip.Addr][]string // most recently learned first
}

func newLearned(max int) *learned {
	t := &learned{max: max, index: make(map[pair]*list.Element), byAddr: make(map[netip.Addr][]string)}
	t.order.Init()
	return t
}

// add records that name resolved to a, or refreshes the pair if known.
func (t *learned) add(a netip.Addr, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := pair{a, name}
	if e, ok := t.index[k]; ok {
		t.order.MoveToBack(e)
		t.byAddr[a] = moveFront(t.byAddr[a], name)
		return
	}
	if names := t.byAddr[a]; len(names) >= maxNamesPerAddr {
		t.remove(pair{a, names[len(names)-1]})
	}
	if t.order.Len() >= t.max {
		t.remove(t.order.Front().Value.(pair))
	}
	t.index[k] = t.order.PushBack(k)
	names := t.byAddr[a]
	names = append(names, "")
	copy(names[1:], names)
	names[0] = name
	t.byAddr[a] = names
}

func (t *learned) remove(k pair) {
	e, ok := t.index[k]
	if !ok {
		return
	}
	t.order.Remove(e)
	delete(t.index, k)
	names := t.byAddr[k.addr]
	if i := slices.Index(names, k.name); i >= 0 {
		names = slices.Delete(names, i, i+1) // zeroes the freed slot: the name can go
	}
	if len(names) == 0 {
		delete(t.byAddr, k.addr)
		return
	}
	t.byAddr[k.addr] = names
}

// names gives a copy of the names learned for a, most recent first.
func (t *learned) names(a netip.Addr) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := t.byAddr[a]
	if len(names) == 0 {
		return nil
	}
	return append([]string(nil), names...)
}

// len is the number of pairs held.
func (t *learned) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.index)
}

// moveFront moves name to the front of names, which holds it.
func moveFront(names []string, name string) []string {
	for i, n := range names {
		if n == name {
			copy(names[1:i+1], names[:i])
			names[0] = name
			break
		}
	}
	return names
}
