//go:build linux

package seccomp

import (
	"encoding/binary"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/internal/runtest"
)

// call is one system call as seccomp sees it (struct seccomp_data).
type call struct {
	arch uint32
	nr   int32
	args [6]uint64
}

// data lays c out as struct seccomp_data on a little-endian machine: nr,
// arch, ip, then each 64-bit argument low word first. The kernel loads
// words natively, x/net/bpf's VM loads them big-endian (packet order), so
// each 32-bit word is stored big-endian at its little-endian place: the VM
// then loads exactly what the kernel would.
func (c call) data() []byte {
	b := make([]byte, 64)
	be := binary.BigEndian
	be.PutUint32(b[0:], uint32(c.nr))
	be.PutUint32(b[4:], c.arch)
	// ip (8 bytes at 8) stays 0.
	for i, a := range c.args {
		be.PutUint32(b[16+8*i:], uint32(a))       // low word
		be.PutUint32(b[16+8*i+4:], uint32(a>>32)) // high word
	}
	return b
}

// vms holds one x/net/bpf VM per filter of a Program.
type vms []*bpf.VM

func newVMs(t testing.TB, p *Program) vms {
	t.Helper()
	var out vms
	for i, f := range p.Filters {
		insts := make([]bpf.Instruction, len(f))
		for j, r := range f {
			insts[j] = bpf.RawInstruction{Op: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}.Disassemble()
		}
		vm, err := bpf.NewVM(insts)
		if err != nil {
			t.Fatalf("filter %d: %v", i, err)
		}
		out = append(out, vm)
	}
	return out
}

// actionOnly is the kernel's ACTION_ONLY: smaller is more restrictive
// (KILL_PROCESS < KILL_THREAD < TRAP < ERRNO < USER_NOTIF < TRACE < LOG < ALLOW).
func actionOnly(ret uint32) int32 { return int32(ret & unix.SECCOMP_RET_ACTION_FULL) }

// run evaluates c as seccomp_run_filters does: every filter runs, newest
// (last installed) first, and a result replaces the one so far only if it is
// strictly more restrictive. No filters: allow.
func (v vms) run(t testing.TB, c call) uint32 {
	t.Helper()
	ret := uint32(unix.SECCOMP_RET_ALLOW)
	in := c.data()
	for i := len(v) - 1; i >= 0; i-- {
		r, err := v[i].Run(in)
		if err != nil {
			t.Fatalf("filter %d: %v", i, err)
		}
		if actionOnly(uint32(r)) < actionOnly(ret) {
			ret = uint32(r)
		}
	}
	return ret
}

func native(t testing.TB) *arch.Info {
	t.Helper()
	info, err := arch.GetInfo("")
	if err != nil {
		runtest.Gap(t, "no syscall table for this architecture: "+err.Error())
	}
	return info
}

// nr is the native number of a syscall name.
func nr(t testing.TB, name string) int32 {
	t.Helper()
	n, ok := native(t).SyscallNames[name]
	if !ok {
		t.Fatalf("no syscall %s on this arch", name)
	}
	return int32(n)
}

func retName(r uint32) string {
	switch r & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW:
		return "ALLOW"
	case unix.SECCOMP_RET_ERRNO:
		return "ERRNO(" + unix.ErrnoName(unix.Errno(r&unix.SECCOMP_RET_DATA)) + ")"
	case unix.SECCOMP_RET_KILL_PROCESS:
		return "KILL_PROCESS"
	case unix.SECCOMP_RET_KILL_THREAD:
		return "KILL_THREAD"
	case unix.SECCOMP_RET_TRAP:
		return "TRAP"
	case unix.SECCOMP_RET_TRACE:
		return "TRACE"
	case unix.SECCOMP_RET_LOG:
		return "LOG"
	}
	return "?"
}

func mustCompile(t testing.TB, o Options) *Program {
	t.Helper()
	p, err := Compile(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedence(t *testing.T) {
	// Two filters: the more restrictive result wins, whichever filter.
	allow := Filter{{Op: 0x06, K: unix.SECCOMP_RET_ALLOW}}
	eperm := Filter{{Op: 0x06, K: retEPERM}}
	for _, fs := range [][]Filter{{allow, eperm}, {eperm, allow}} {
		p := &Program{Filters: fs}
		if got := newVMs(t, p).run(t, call{}); got != retEPERM {
			t.Errorf("got %s, want ERRNO(EPERM)", retName(got))
		}
	}
}
