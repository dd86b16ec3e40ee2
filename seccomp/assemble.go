//go:build linux

package seccomp

import (
	"fmt"
	"slices"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// Layout of one filter:
//
//	ld arch; jeq NATIVE ? next : ret ENOSYS   other tables (i386, arm on arm64)
//	ld nr; [amd64] jge X32_BIT ? ret ENOSYS    the x32 ABI
//	jge K1 ? ... : ...                        a binary search over numbers,
//	  jge K2 ? ... : ...                       "jge" nodes down to leaves: a
//	    ...                                    syscall's argument blocks, or
//	ret ...; ...; ret DEFAULT                  a return shared by neighbours
//
// The numbers 0..2^32-1 are cut into ranges, each with one leaf: a run of
// numbers with the same unconditional verdict (ALLOW, an errno, or the
// default for numbers without a rule) is one range and its leaf a "ret"; a
// syscall with argument conditions is a range of its own, whose leaf is its
// clauses' blocks in order and a "ret" of the chain's end. The search splits
// the ranges in halves, so every number reaches its leaf in about
// log2(ranges) comparisons of the number (a linear scan took hundreds for
// the numbers without a rule). That matters most at attach time: the kernel
// emulates the filter for every syscall number to fill its action cache
// (numbers it finds always allowed never run the filter again), and it
// converts and JITs every instruction. A path to an unconditional leaf loads
// nothing but nr and arch, so those numbers stay cacheable (cache_test.go
// checks it).
//
// The search is written backwards, from the end of the filter, so that each
// node's targets are in place when the node is written: its lower half right
// after it, its upper half somewhere below. Leaves of the same verdict share
// one "ret" while a conditional jump (8-bit offset: 255 instructions at most)
// reaches it, and get a new one where it does not; a node that cannot reach
// a subtree goes through a "ja" (32-bit offset). A syscall's blocks are
// short (maxBlock), so no jump inside one exceeds 255 either and elastic's
// long-jump fix-up (which rewrites a partly resolved program) never runs;
// emitGroup checks that. After a block that loaded an argument, "ld nr" puts
// the syscall number back in the accumulator for the next block, which tests
// it again.
//
// Other tables and x32 answer ENOSYS whatever the profile says: the rules
// name native syscall numbers and mean nothing for another table, and
// ENOSYS tells a program the ABI is not there (so does elastic for x32).

const (
	offNr   = 0 // struct seccomp_data
	offArch = 4

	maxBlock = 250  // instructions per block: every jump inside stays below 255
	maxJump  = 255  // the farthest a conditional jump reaches
	maxInsns = 4096 // BPF_MAXINSNS
)

// The instructions written by hand, encoded directly (all but the argument
// blocks; going through x/net/bpf's interface values for them would be most
// of Compile's allocations).
func ldAbs(off uint32) Instruction {
	return Instruction{Op: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
}
func ret(v uint32) Instruction { return Instruction{Op: unix.BPF_RET | unix.BPF_K, K: v} }
func jeq(v uint32, jt, jf uint8) Instruction {
	return Instruction{Op: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: jt, Jf: jf, K: v}
}
func jge(v uint32, jt, jf uint8) Instruction {
	return Instruction{Op: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, Jt: jt, Jf: jf, K: v}
}
func ja(k uint32) Instruction { return Instruction{Op: unix.BPF_JMP | unix.BPF_JA, K: k} }

var loadNr = ldAbs(offNr)

// A leaf decides the numbers from lo up to the next leaf's lo (the last one:
// up to 2^32-1): code[start:end] when start < end (a syscall's blocks and
// final return), else "ret action".
type leaf struct {
	lo         uint32
	action     uint32
	start, end int
}

// assemble lays out rs; def is the default return value.
func (rs *ruleSet) assemble(def uint32) ([]Instruction, error) {
	leaves, code, err := rs.leaves(def)
	if err != nil {
		return nil, err
	}
	prelude := []Instruction{
		ldAbs(offArch),
		jeq(uint32(rs.info.ID), 1, 0),
		ret(retENOSYS),
		loadNr,
	}
	if rs.info.ID == arch.X86_64.ID && rs.info.SeccompMask == 0 {
		prelude = append(prelude, jge(uint32(arch.X32.SeccompMask), 0, 1), ret(retENOSYS))
	}
	t := tree{leaves: leaves, code: code, rev: make([]Instruction, 0, 2*len(leaves)+len(code)+8)}
	t.push(ret(def)) // the last instruction, as the kernel wants a return there
	t.place(0, len(leaves), true)
	if t.err != nil {
		return nil, t.err
	}
	n := len(prelude) + len(t.rev)
	if n > maxInsns {
		return nil, fmt.Errorf("filter has %d instructions, more than the kernel's %d", n, maxInsns)
	}
	prog := append(make([]Instruction, 0, n), prelude...)
	for i := len(t.rev) - 1; i >= 0; i-- {
		prog = append(prog, t.rev[i])
	}
	return prog, nil
}

// leaves cuts the numbers into ranges (see the layout above), in order from
// 0, and assembles the blocks of the syscalls with conditions into code.
func (rs *ruleSet) leaves(def uint32) ([]leaf, []Instruction, error) {
	// Sort by number; keys of number and place sort without a comparison
	// function (several times faster, and Compile is on every run).
	keys := make([]uint64, len(rs.order))
	for i, e := range rs.order {
		keys[i] = uint64(e.nr)<<32 | uint64(i)
	}
	slices.Sort(keys)
	out := make([]leaf, 0, 2*len(keys)+1) // a range per entry and per gap at most
	add := func(l leaf) {
		// A constant range next to one of the same verdict joins it.
		if n := len(out); n > 0 && l.start == l.end && out[n-1].start == out[n-1].end && out[n-1].action == l.action {
			return
		}
		out = append(out, l)
	}
	var code []Instruction
	next := uint32(0) // the first number not yet in a range
	for _, k := range keys {
		e := rs.order[uint32(k)]
		if e.nr > next {
			add(leaf{lo: next, action: def}) // numbers without a rule
		}
		next = e.nr + 1
		if c := e.clauses[0]; c.unconditional() {
			add(leaf{lo: e.nr, action: c.action})
			continue
		}
		// The chain's clauses, and what its end returns: its final
		// unconditional clause (ioctl: tty check, then allow) or the
		// default.
		start, end := len(code), def
		for _, c := range e.clauses {
			if c.unconditional() {
				end = c.action
				break
			}
			var err error
			if code, err = appendClause(code, e, c); err != nil {
				return nil, nil, fmt.Errorf("rule for %s: %w", e.name, err)
			}
		}
		if code[len(code)-1] == loadNr {
			code = code[:len(code)-1] // the return needs no number
		}
		code = append(code, ret(end))
		add(leaf{lo: e.nr, start: start, end: len(code)})
	}
	if next != 0 || len(keys) == 0 {
		add(leaf{lo: next, action: def}) // past the last rule
	}
	return out, code, nil
}

// A tree writes the search over leaves backwards: rev is the filter after
// the prelude, last instruction first. An instruction's place is its index
// in rev; one written at place a reaches place b < a by skipping a-b-1.
type tree struct {
	leaves []leaf
	code   []Instruction
	rev    []Instruction
	rets   []placedRet // the latest return of each verdict
	err    error       // a jump that does not fit: a bug
}

type placedRet struct {
	action uint32
	at     int
}

// A target is where a jump goes: place at, or, with isRet, a return of
// action (placed when the jump is written: shared if one is near enough).
type target struct {
	at     int
	isRet  bool
	action uint32
}

func (t *tree) push(in Instruction) int {
	t.rev = append(t.rev, in)
	if in.Op == unix.BPF_RET|unix.BPF_K {
		t.noteRet(in.K, len(t.rev)-1)
	}
	return len(t.rev) - 1
}

func (t *tree) noteRet(action uint32, at int) {
	for i := range t.rets {
		if t.rets[i].action == action {
			t.rets[i].at = at
			return
		}
	}
	t.rets = append(t.rets, placedRet{action, at})
}

// place writes the search over leaves[i:j] (j > i) and returns where it
// starts. With first, it must start at the instruction written last (the
// filter falls into it), so a lone constant leaf gets a return of its own.
func (t *tree) place(i, j int, first bool) target {
	if j-i == 1 {
		l := t.leaves[i]
		if l.start < l.end {
			for k := l.end - 1; k >= l.start; k-- {
				t.push(t.code[k])
			}
			return target{at: len(t.rev) - 1}
		}
		if first {
			return target{at: t.push(ret(l.action))}
		}
		return target{isRet: true, action: l.action}
	}
	m := (i + j) / 2
	hi := t.place(m, j, false)
	lo := t.place(i, m, false)
	// Should the lower half's target need an instruction of its own, it
	// comes between the upper half's and the node: one more to skip.
	jt := t.reach(hi, 1)
	jf := t.reach(lo, 0)
	a := len(t.rev)
	return target{at: t.push(jge(t.leaves[m].lo, t.offset(a-jt-1), t.offset(a-jf-1)))}
}

// offset checks that a conditional jump's offset fits.
func (t *tree) offset(n int) uint8 {
	if n < 0 || n > maxJump {
		t.err = fmt.Errorf("internal error: jump of %d", n)
	}
	return uint8(n)
}

// reach returns the place of an instruction that leads to g and that a jump
// written after slack more instructions still reaches: g itself, the latest
// return of its verdict, or, too far, a new return or a "ja" to g.
func (t *tree) reach(g target, slack int) int {
	at := -1
	if g.isRet {
		for _, r := range t.rets {
			if r.action == g.action {
				at = r.at
			}
		}
	} else {
		at = g.at
	}
	if at >= 0 && len(t.rev)-at-1+slack <= maxJump {
		return at
	}
	if g.isRet {
		return t.push(ret(g.action))
	}
	return t.push(ja(uint32(len(t.rev) - at - 1)))
}
