//go:build linux

package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"
)

// constAllow is the kernel's seccomp_is_const_allow (kernel/seccomp.c, 5.11+):
// at attach time it emulates the filter for each syscall number of the
// native (and compat) table with only nr and arch known, and marks the
// number always-allowed when a return of ALLOW is reached through nothing but
// loads of nr or arch, ja, jeq/jgt/jge/jset with K and ALU AND K. Those
// numbers never run the filter again. steps is how many instructions it
// emulated.
func constAllow(f []Instruction, archID, nr uint32) (allow bool, steps int) {
	var a uint32
	for pc := 0; pc < len(f); pc++ {
		in := f[pc]
		steps++
		switch in.Op {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case offNr:
				a = nr
			case offArch:
				a = archID
			default:
				return false, steps // an argument: not constant
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K == retAllow, steps
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var res bool
			switch in.Op & 0xf0 {
			case unix.BPF_JEQ:
				res = a == in.K
			case unix.BPF_JGE:
				res = a >= in.K
			case unix.BPF_JGT:
				res = a > in.K
			case unix.BPF_JSET:
				res = a&in.K != 0
			}
			if res {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		default:
			return false, steps
		}
	}
	return false, steps // ran off the end (the kernel WARNs)
}

// TestConstAllow checks that the kernel's action cache can answer every
// syscall the rules allow unconditionally without running the filter, that
// it never marks one the rules may refuse, and reports how many instructions
// the kernel emulates to build the cache.
func TestConstAllow(t *testing.T) {
	info := native(t)
	maxNr := 0
	for n := range info.SyscallNumbers {
		maxNr = max(maxNr, n)
	}
	args := argPatterns()
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no caps", Options{}},
		{"docker caps", Options{Caps: dockerCaps}},
		{"CAP_SYS_ADMIN", Options{Caps: withAdmin}},
		{"nested userns", Options{Caps: dockerCaps, AllowNestedUserns: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, def, err := defaultRules(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			p, err := link(ModeDefault, "", rs, def)
			if err != nil {
				t.Fatal(err)
			}
			f := p.Filters[0]
			v := newVMs(t, p)
			total, longest, cached, uncond := 0, 0, 0, 0
			for n := 0; n <= maxNr; n++ {
				allow, steps := constAllow(f, uint32(info.ID), uint32(n))
				total += steps
				longest = max(longest, steps)
				always := def == retAllow
				if e := rs.byNr[uint32(n)]; e != nil {
					always = e.clauses[0].unconditional() && e.clauses[0].action == retAllow
				}
				if always {
					uncond++
					if !allow {
						t.Errorf("%s(%d) is allowed unconditionally, but not constant for the kernel's cache", info.SyscallNumbers[n], n)
					}
				}
				if allow {
					cached++
					for _, a := range args {
						if got := v.run(t, call{arch: uint32(info.ID), nr: int32(n), args: a}); got != retAllow {
							t.Fatalf("%s(%d) %x: cached as allowed, but the filter answers %s", info.SyscallNumbers[n], n, a, retName(got))
						}
					}
				}
			}
			t.Logf("%d instructions; cache emulation of nr 0..%d: %d steps (longest %d), %d numbers cached of %d allowed unconditionally",
				len(f), maxNr, total, longest, cached, uncond)
			// Laid out linearly, the docker-caps filter took 105,923 steps
			// on amd64 (longest 347); the search takes a few per level.
			if most := (maxNr + 1) * (searchBound(t, rs, def) + 2); total > most {
				t.Errorf("cache emulation takes %d steps, more than %d", total, most)
			}
		})
	}
}
