//go:build linux

package seccomp

import (
	"encoding/binary"
	"fmt"
	"slices"

	elastic "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
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

// appendClause appends the blocks for one clause of e.
func appendClause(prog []Instruction, e *entry, c clause) ([]Instruction, error) {
	switch {
	case c.low32 != nil:
		// ioctl: elastic's conditions compare all 64 bits, and that would
		// let ioctl(fd, TIOCSTI|1<<32) through; the kernel truncates the
		// request to unsigned int.
		return appendOneOf(prog, e.nr, c.low32Arg, c.low32, false, c.action)
	case c.sets == nil: // unreached: a chain's unconditional end is its leaf's return
		return nil, fmt.Errorf("internal error: unconditional clause in a block")
	}
	// Sets that are each one equality on the same argument, with a value
	// whose high word is 0 (Docker's socket rule: one per allowed domain),
	// share blocks that test the high word once and then the low word
	// against each value, where elastic would test both words per set. The
	// sets are ORed and all lead to c.action, so testing them in another
	// order changes no verdict; the group takes the place of its first set.
	arg, vals, pre, post := equalities(c.sets)
	prog, err := appendSets(prog, e.nr, c.action, pre)
	if err != nil {
		return nil, err
	}
	if prog, err = appendOneOf(prog, e.nr, arg, vals, true, c.action); err != nil {
		return nil, err
	}
	return appendSets(prog, e.nr, c.action, post)
}

// oneEqual reports whether set is one equality with a 32-bit value.
func oneEqual(set elastic.ArgumentConditions) bool {
	return len(set) == 1 && set[0].Operation == elastic.Equal && set[0].Value>>32 == 0
}

// equalities finds the sets that are one equality with a 32-bit value on
// the argument of the first such set, if there are at least two, and returns
// their values and the other sets, before the first and after it. Otherwise
// pre is all of sets.
func equalities(sets []elastic.ArgumentConditions) (arg uint32, vals []uint32, pre, post []elastic.ArgumentConditions) {
	first, n := -1, 0
	for i, set := range sets {
		if oneEqual(set) && (first < 0 || set[0].Argument == sets[first][0].Argument) {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	if n < 2 {
		return 0, nil, sets, nil
	}
	arg = sets[first][0].Argument
	vals = make([]uint32, 0, n)
	pre = sets[:first]
	for _, set := range sets[first:] {
		if oneEqual(set) && set[0].Argument == arg {
			vals = append(vals, uint32(set[0].Value))
		} else {
			post = append(post, set)
		}
	}
	return arg, vals, pre, post
}

// appendSets appends blocks for the ORed condition sets, as many as it
// takes; each block falls through to the next on no match, so the OR is
// kept.
func appendSets(prog []Instruction, nr, action uint32, sets []elastic.ArgumentConditions) ([]Instruction, error) {
	for len(sets) > 0 {
		size, n := 2, 0 // jne nr, ..., ret
		for n < len(sets) && size+setSize(sets[n]) <= maxBlock {
			size += setSize(sets[n])
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("condition too large")
		}
		insts, err := emitGroup(action, elastic.SyscallWithConditions{Num: nr, Conditions: sets[:n]}, size)
		if err != nil {
			return nil, err
		}
		if prog, err = appendBlock(prog, insts); err != nil {
			return nil, err
		}
		sets = sets[n:]
	}
	return prog, nil
}

// appendOneOf appends blocks for "the argument equals one of vals", as many
// as it takes: on its low 32 bits only, or, with high, on all 64 (the high
// word 0). Each is
//
//	jne nr ? next; [ld hi; jne 0 ? next;] ld lo; jeq v1 ? match; ...
//	jeq vn ? match : next; match: ret action; next: ld nr
//
// encoded here directly: elastic's label assembler took a tenth of Compile
// for these few instructions.
func appendOneOf(prog []Instruction, nr, arg uint32, vals []uint32, high bool, action uint32) ([]Instruction, error) {
	head := 2 // jne nr, ld lo
	if high {
		head += 2 // ld hi, jne 0
	}
	for len(vals) > 0 {
		n := min(len(vals), maxBlock-head-1)
		size := head + n + 1 // and the return; next is at size
		prog = append(prog, jeq(nr, 0, uint8(size-1)))
		if high {
			prog = append(prog, ldAbs(argHi(arg)), jeq(0, 0, uint8(size-3)))
		}
		prog = append(prog, ldAbs(argLo(arg)))
		for k, v := range vals[:n] {
			if k < n-1 {
				prog = append(prog, jeq(v, uint8(n-k-1), 0)) // to the return
			} else {
				prog = append(prog, jeq(v, 0, 1))
			}
		}
		prog = append(prog, ret(action), loadNr)
		vals = vals[n:]
	}
	return prog, nil
}

// argLo and argHi are where the low and high 32 bits of argument arg lie in
// struct seccomp_data: the u64 array at 16, in native byte order (elastic's
// LdLo and LdHi load the same words).
func argLo(arg uint32) uint32 { return 16 + 8*arg + loHalf }
func argHi(arg uint32) uint32 { return 16 + 8*arg + 4 - loHalf }

// loHalf is the offset of a u64's low half in its 8 bytes.
var loHalf = func() uint32 {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	if b[0] == 1 {
		return 0
	}
	return 4
}()

// appendBlock encodes a block from elastic, which loaded an argument, and
// reloads the syscall number after it.
func appendBlock(prog []Instruction, insts []bpf.Instruction) ([]Instruction, error) {
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, err
	}
	for _, r := range raw {
		prog = append(prog, Instruction{Op: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K})
	}
	return append(prog, loadNr), nil
}

// emitGroup assembles one block with elastic: the syscall, with its ORed
// condition sets, jumps to one return of action; no match falls through.
// want is the block's size as elastic lays it out (see setSize); any other
// size means elastic inserted long-jump fix-ups, which this layout must never
// need. elastic's Ret turns a bare ERRNO into EPERM, so we write the block's
// last instruction, its return, ourselves (errno 0, say, is a valid errnoRet).
func emitGroup(action uint32, s elastic.SyscallWithConditions, want int) ([]bpf.Instruction, error) {
	p := elastic.NewProgram()
	match, next := p.NewLabel(), p.NewLabel()
	s.Assemble(&p, false, match, next)
	return finishBlock(&p, match, next, want, action)
}

// finishBlock ends a block whose checks jump to match or fall to next: it
// places the return of action at match, assembles, and checks the size.
func finishBlock(p *elastic.Program, match, next elastic.Label, want int, action uint32) ([]bpf.Instruction, error) {
	p.SetLabel(match)
	p.Ret(elastic.ActionAllow) // placeholder, replaced below
	p.SetLabel(next)
	insts, err := p.Assemble()
	if err != nil {
		return nil, err
	}
	if len(insts) != want {
		return nil, fmt.Errorf("internal error: block of %d instructions, want %d", len(insts), want)
	}
	if _, ok := insts[len(insts)-1].(bpf.RetConstant); !ok {
		return nil, fmt.Errorf("internal error: block does not end in a return")
	}
	insts[len(insts)-1] = bpf.RetConstant{Val: action}
	return insts, nil
}

// setSize is how many instructions elastic's SyscallWithConditions.Assemble
// emits for one AND-set of conditions (filter.go: load high half, compare,
// [compare again for the orderings], load low half, compare).
func setSize(set elastic.ArgumentConditions) int {
	n := 0
	for _, c := range set {
		switch c.Operation {
		case elastic.GreaterThan, elastic.GreaterOrEqual, elastic.LessThan, elastic.LessOrEqual:
			n += 5
		default:
			n += 4
		}
	}
	return n
}
