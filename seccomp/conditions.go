//go:build linux

package seccomp

import (
	"fmt"
	"math/bits"

	elastic "github.com/elastic/go-seccomp-bpf"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// action turns an OCI action into a SECCOMP_RET_* value. As runc does, an
// errno-carrying action without errnoRet returns EPERM, and SCMP_ACT_KILL is
// libseccomp's name for KILL_THREAD.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		if *errnoRet > unix.SECCOMP_RET_DATA {
			return 0, fmt.Errorf("errnoRet %d does not fit in 16 bits", *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch a {
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActNotify:
		// A notify listener needs a supervisor holding the listener
		// descriptor; sbx has none.
		return 0, fmt.Errorf("action %q is not supported", a)
	case "":
		return 0, fmt.Errorf("no action")
	}
	return 0, fmt.Errorf("unknown action %q", a)
}

// conditions turns a rule's OCI arguments into elastic condition sets (ORed),
// with runc's semantics: arguments on distinct indexes are ANDed in one set;
// if any index appears twice, every argument becomes a set of its own
// (runc#2735), which is how Docker's profiles are written. nil means
// unconditional.
func conditions(args []specs.LinuxSeccompArg) ([]elastic.ArgumentConditions, error) {
	if len(args) == 0 {
		return nil, nil
	}
	var perIndex [6]int
	conds := make(elastic.ArgumentConditions, 0, len(args))
	for _, a := range args {
		if a.Index > 5 {
			return nil, fmt.Errorf("argument index %d out of range 0-5", a.Index)
		}
		perIndex[a.Index]++
		c, err := condition(a)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	for _, n := range perIndex {
		if n > 1 {
			sets := make([]elastic.ArgumentConditions, len(conds))
			for i := range conds {
				sets[i] = conds[i : i+1 : i+1]
			}
			return sets, nil
		}
	}
	return []elastic.ArgumentConditions{conds}, nil
}

func condition(a specs.LinuxSeccompArg) (elastic.Condition, error) {
	c := elastic.Condition{Argument: uint32(a.Index), Value: a.Value}
	switch a.Op {
	case specs.OpEqualTo:
		c.Operation = elastic.Equal
	case specs.OpNotEqual:
		c.Operation = elastic.NotEqual
	case specs.OpLessThan:
		c.Operation = elastic.LessThan
	case specs.OpLessEqual:
		c.Operation = elastic.LessOrEqual
	case specs.OpGreaterThan:
		c.Operation = elastic.GreaterThan
	case specs.OpGreaterEqual:
		c.Operation = elastic.GreaterOrEqual
	case specs.OpMaskedEqual:
		// (arg & Value) == ValueTwo. classic BPF could do it with an ALU
		// AND, but elastic's assembler has no AND, so only the forms that
		// bit tests express: datum 0 (Docker's clone rule: no flag of the
		// mask set) and a one-bit mask with the datum equal to it.
		switch {
		case a.ValueTwo == 0:
			c.Operation = elastic.BitsNotSet
		case bits.OnesCount64(a.Value) == 1 && a.ValueTwo == a.Value:
			c.Operation = elastic.BitsSet
		default:
			return c, fmt.Errorf("%s with mask %#x and value %#x is not supported (only value 0, or a one-bit mask equal to the value)", a.Op, a.Value, a.ValueTwo)
		}
	case "":
		return c, fmt.Errorf("argument %d: no operator", a.Index)
	default:
		return c, fmt.Errorf("argument %d: unknown operator %q", a.Index, a.Op)
	}
	return c, nil
}
