//go:build linux

package seccomp

import (
	"fmt"

	elastic "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Layout of one filter:
//
//	ld arch; jeq NATIVE ? next : ret ENOSYS   other tables (i386, arm on arm64)
//	ld nr; [amd64] jge X32_BIT ? ret ENOSYS    the x32 ABI
//	blocks, one per group of syscalls, each ending in its own ret
//	ret DEFAULT
//
// A block tests only its own syscalls and falls through to the next one when
// none matches. Blocks are short (maxBlock), so no jump exceeds the 255 that
// a conditional jump can skip and elastic's long-jump fix-up (which rewrites
// a partly resolved program) never runs; emitGroup checks that. After a block that loaded an argument, "ld nr" puts the
// syscall number back in the accumulator for the next block.
//
// Other tables and x32 answer ENOSYS whatever the profile says: the rules
// name native syscall numbers and mean nothing for another table, and
// ENOSYS tells a program the ABI is not there (so does elastic for x32).

const (
	offNr   = 0 // struct seccomp_data
	offArch = 4

	maxBlock = 250  // instructions per block: every jump inside stays below 255
	maxNames = 200  // names per unconditional block (one instruction each)
	maxInsns = 4096 // BPF_MAXINSNS
)

// The few instructions written by hand, encoded directly (most of a filter is
// "jeq nr"; going through x/net/bpf's interface values for them would be most
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

var loadNr = ldAbs(offNr)

// assemble lays out rs with the entries in hot first; def is the default
// return value.
func (rs *ruleSet) assemble(def uint32, hot []string) ([]Instruction, error) {
	prog := make([]Instruction, 0, 1024)
	prog = append(prog,
		ldAbs(offArch),
		jeq(uint32(rs.info.ID), 1, 0),
		ret(retENOSYS),
		loadNr,
	)
	if rs.info.ID == arch.X86_64.ID && rs.info.SeccompMask == 0 {
		prog = append(prog, jge(uint32(arch.X32.SeccompMask), 0, 1), ret(retENOSYS))
	}

	// Unconditional clauses (each ends its chain) share blocks with their
	// neighbours of the same verdict: a run of "jeq nr" and one return.
	var run []uint32
	runAction := uint32(0)
	flush := func() {
		for len(run) > 0 {
			n := min(len(run), maxNames)
			prog = appendNrBlock(prog, runAction, run[:n])
			run = run[n:]
		}
		run = nil
	}

	for _, e := range rs.ordered(hot) {
		// A chain's final unconditional clause joins the run of the blocks
		// that follow its other clauses (ioctl: tty check, then allow).
		clauses, tail := e.clauses, -1
		if n := len(clauses); clauses[n-1].unconditional() {
			clauses, tail = clauses[:n-1], n-1
		}
		if len(clauses) > 0 {
			flush()
			for _, c := range clauses {
				var err error
				if prog, err = appendClause(prog, e, c); err != nil {
					return nil, fmt.Errorf("rule for %s: %w", e.name, err)
				}
			}
		}
		if tail >= 0 {
			if len(run) > 0 && runAction != e.clauses[tail].action {
				flush()
			}
			runAction = e.clauses[tail].action
			run = append(run, e.nr)
		}
	}
	flush()
	prog = append(prog, ret(def))
	if len(prog) > maxInsns {
		return nil, fmt.Errorf("filter has %d instructions, more than the kernel's %d", len(prog), maxInsns)
	}
	return prog, nil
}

// appendNrBlock appends a block that returns action for any of nrs: one
// "jeq nr" each, jumping to the block's return, and a jump over the return
// when none matched. This is what elastic emits for argument-free names, by
// hand because its label bookkeeping would be most of Compile's time.
func appendNrBlock(prog []Instruction, action uint32, nrs []uint32) []Instruction {
	for i, nr := range nrs {
		var jf uint8
		if i == len(nrs)-1 {
			jf = 1
		}
		prog = append(prog, jeq(nr, uint8(len(nrs)-1-i), jf))
	}
	return append(prog, ret(action))
}

// appendClause appends the blocks for one clause of e.
func appendClause(prog []Instruction, e *entry, c clause) ([]Instruction, error) {
	switch {
	case c.low32 != nil:
		insts, err := emitLow32(e.nr, c)
		if err != nil {
			return nil, err
		}
		return appendBlock(prog, insts)
	case c.sets == nil: // unreached from assemble, where a chain's unconditional end joins a run
		return appendNrBlock(prog, c.action, []uint32{e.nr}), nil
	}
	// Split the ORed condition sets over as many blocks as it takes; each
	// block falls through to the next on no match, so the OR is kept.
	sets := c.sets
	for len(sets) > 0 {
		size, n := 2, 0 // jne nr, ..., ret
		for n < len(sets) && size+setSize(sets[n]) <= maxBlock {
			size += setSize(sets[n])
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("condition too large")
		}
		insts, err := emitGroup(c.action, elastic.SyscallWithConditions{Num: e.nr, Conditions: sets[:n]}, size)
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

// emitLow32 assembles "nr matches and the low 32 bits of the argument equal
// one of the values". elastic's conditions compare all 64 bits, and for
// ioctl that would let ioctl(fd, TIOCSTI|1<<32) through: the kernel
// truncates the request to unsigned int.
func emitLow32(nr uint32, c clause) ([]bpf.Instruction, error) {
	if len(c.low32) == 0 || len(c.low32) > maxBlock-3 {
		return nil, fmt.Errorf("internal error: %d values to compare", len(c.low32))
	}
	p := elastic.NewProgram()
	match, next := p.NewLabel(), p.NewLabel()
	p.JmpIfTrue(bpf.JumpNotEqual, nr, next)
	p.LdLo(c.low32Arg)
	for i, v := range c.low32 {
		if i < len(c.low32)-1 {
			p.JmpIfTrue(bpf.JumpEqual, v, match)
		} else {
			p.JmpIf(bpf.JumpEqual, v, match, next)
		}
	}
	return finishBlock(&p, match, next, 3+len(c.low32), c.action)
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
