package userns

import (
	"fmt"
	"strconv"
	"strings"
)

// insideIDs is how many ids exist inside with a subordinate range: 0..65535,
// enough for every system user a distribution creates.
const insideIDs = 65536

// Range maps Count ids starting at Inside to ids starting at Outside.
type Range struct {
	Inside, Outside, Count int
}

// IDMap is the content of a uid_map or gid_map.
type IDMap []Range

// SubRange is a subordinate id range from /etc/subuid or /etc/subgid.
type SubRange struct{ Start, Count int }

// PlanIDMap maps the id inside to the caller's id outside and, when a
// subordinate range is given, fills the other ids 0..65535 inside from it
// in order.
func PlanIDMap(inside, caller int, sub *SubRange) IDMap {
	m := IDMap{{Inside: inside, Outside: caller, Count: 1}}
	if sub == nil || sub.Count <= 0 {
		return m
	}
	budget := sub.Count
	next := sub.Start
	add := func(from, to int) { // inside ids [from, to)
		n := to - from
		if n > budget {
			n = budget
		}
		if n <= 0 {
			return
		}
		m = append(m, Range{Inside: from, Outside: next, Count: n})
		next += n
		budget -= n
	}
	add(0, inside)
	add(inside+1, insideIDs)
	return m
}

// Single reports whether the map holds only the caller's own id, which an
// unprivileged process may write itself.
func (m IDMap) Single() bool { return len(m) == 1 }

// String is the map in the kernel's format, one range a line.
func (m IDMap) String() string {
	var b strings.Builder
	for _, r := range m {
		fmt.Fprintf(&b, "%d %d %d\n", r.Inside, r.Outside, r.Count)
	}
	return b.String()
}

// HelperArgs are the arguments of newuidmap/newgidmap for process pid.
func (m IDMap) HelperArgs(pid int) []string {
	args := []string{strconv.Itoa(pid)}
	for _, r := range m {
		args = append(args, strconv.Itoa(r.Inside), strconv.Itoa(r.Outside), strconv.Itoa(r.Count))
	}
	return args
}

// Maps is the pair of id maps of one sandbox.
type Maps struct {
	UID, GID IDMap
	// NewUIDMap and NewGIDMap are the setuid helpers to write maps with
	// subordinate ranges; empty when the map is Single.
	NewUIDMap, NewGIDMap string
}
