//go:build linux

package seccomp

import (
	"encoding/binary"
	"fmt"

	elastic "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
)

// The blocks of one syscall's rule: its argument checks and its return,
// appended to the filter by the search in assemble.go. Each block starts
// with its own check of the number, so that it is right on its own.

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
