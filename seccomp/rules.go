//go:build linux

package seccomp

import (
	"slices"

	elastic "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// Return values (SECCOMP_RET_*) the compiler itself uses.
const (
	retAllow  = uint32(unix.SECCOMP_RET_ALLOW)
	retEPERM  = uint32(unix.SECCOMP_RET_ERRNO) | uint32(unix.EPERM)
	retENOSYS = uint32(unix.SECCOMP_RET_ERRNO) | uint32(unix.ENOSYS)
)

// A clause is one verdict for one syscall under conditions. Exactly one of
// the forms applies: unconditional (sets and low32 nil), argument conditions
// (sets: OR of ANDs, compared on 64 bits as libseccomp does), or low32: the
// low 32 bits of argument low32Arg equal one of the values (for ioctl, whose
// request the kernel truncates to unsigned int).
type clause struct {
	action   uint32
	sets     []elastic.ArgumentConditions
	low32Arg uint32
	low32    []uint32
}

func (c clause) unconditional() bool { return c.sets == nil && c.low32 == nil }

// An entry is the ordered chain of clauses of one syscall: the first clause
// that matches decides, as the filter tests them in this order.
type entry struct {
	name    string
	nr      uint32
	clauses []clause
	closed  bool // an unconditional clause ends the chain; later ones are unreachable
	first   [1]clause
}

// A ruleSet collects clauses per syscall of the native table, in the order
// rules are added: whoever adds first takes precedence for that syscall.
// Compile runs on every sbx run, so the set avoids per-syscall allocations:
// entries live in one array, indexed by number.
type ruleSet struct {
	info  *arch.Info
	byNr  map[uint32]*entry
	order []*entry // first appearance
	pool  []entry
}

func newRuleSet() (*ruleSet, error) {
	info, err := arch.GetInfo("") // runtime.GOARCH; error on arches elastic has no table for
	if err != nil {
		return nil, err
	}
	n := len(info.SyscallNumbers)
	return &ruleSet{
		info:  info,
		byNr:  make(map[uint32]*entry, n),
		order: make([]*entry, 0, n),
		pool:  make([]entry, 0, n),
	}, nil
}

// add appends c to name's chain. A name the native table does not know is
// skipped: Docker's profile lists every ABI's names (fstat64, _llseek,
// socketcall, ...), and a rule for a syscall that cannot be called adds
// nothing. (On amd64 every name Docker lists that elastic's table lacks is
// such a name, so there is no fallback to x/sys/unix numbers.)
func (rs *ruleSet) add(name string, c clause) {
	num, ok := rs.info.SyscallNames[name]
	if !ok {
		return
	}
	nr := uint32(num | rs.info.SeccompMask)
	e := rs.byNr[nr]
	if e == nil {
		if len(rs.pool) == cap(rs.pool) {
			// Each syscall of the table has at most one entry, so the pool
			// never grows (and entries never move); guard anyway.
			rs.pool = make([]entry, 0, 64)
		}
		rs.pool = append(rs.pool, entry{name: name, nr: nr})
		e = &rs.pool[len(rs.pool)-1]
		e.clauses = e.first[:0]
		rs.byNr[nr] = e
		rs.order = append(rs.order, e)
	}
	if e.closed {
		return
	}
	// Clip so that merging below never appends into a slice shared with
	// the other names of the same rule.
	c.sets = slices.Clip(c.sets)
	if n := len(e.clauses); n > 0 {
		last := &e.clauses[n-1]
		if last.action == c.action && last.low32 == nil && c.low32 == nil {
			// Same verdict as the clause before: one clause, conditions ORed;
			// an unconditional one subsumes the conditional one.
			if c.sets == nil {
				last.sets = nil
				e.closed = true
			} else {
				last.sets = append(last.sets, c.sets...)
			}
			return
		}
	}
	e.clauses = append(e.clauses, c)
	e.closed = c.unconditional()
}

// addAll adds the same clause for each name.
func (rs *ruleSet) addAll(names []string, c clause) {
	for _, n := range names {
		rs.add(n, c)
	}
}
