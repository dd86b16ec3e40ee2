//go:build linux

package seccomp

import (
	"encoding/json"
	"math/bits"
	"strings"
	"testing"

	elastic "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/sys/unix"
)

// searchBound is the most instructions a number may take to reach its leaf's
// first instruction: the prelude, one comparison per level of a balanced
// tree over the leaves, and a trampoline at each level at worst.
func searchBound(t *testing.T, rs *ruleSet, def uint32) int {
	t.Helper()
	leaves, _, err := rs.leaves(def)
	if err != nil {
		t.Fatal(err)
	}
	return 6 + 2*bits.Len(uint(len(leaves)-1))
}

// TestDefaultSearch checks the layout: every number, with or without a rule,
// reaches its verdict (or its first argument load) in a logarithmic number of
// steps.
func TestDefaultSearch(t *testing.T) {
	info := native(t)
	maxNr := 0
	for n := range info.SyscallNumbers {
		maxNr = max(maxNr, n)
	}
	for _, o := range defaultConfigs {
		rs, def, err := defaultRules(o)
		if err != nil {
			t.Fatal(err)
		}
		p, err := link(ModeDefault, "", rs, def)
		if err != nil {
			t.Fatal(err)
		}
		// 515 instructions laid out linearly (amd64). Now: the prelude, a
		// node per leaf but one, the argument blocks, and returns shared by
		// the constant leaves (a second one of a verdict at most, where the
		// first is too far).
		leaves, code, err := rs.leaves(def)
		if err != nil {
			t.Fatal(err)
		}
		verdicts := map[uint32]bool{def: true}
		for _, l := range leaves {
			if l.start == l.end {
				verdicts[l.action] = true
			}
		}
		if n, most := len(p.Filters[0]), 6+len(leaves)-1+len(code)+2*len(verdicts); n > most {
			t.Errorf("%+v: %d instructions, more than %d", o, n, most)
		}
		bound := searchBound(t, rs, def) + 2 // the leaf: a return, or jne nr and an argument load
		for _, n := range []uint32{0, 1, uint32(maxNr) + 1, 999, 0x3fffffff, 0x40000000, 0xffffffff} {
			if _, steps := constAllow(p.Filters[0], uint32(info.ID), n); steps > bound {
				t.Errorf("%+v: nr %#x takes %d steps, more than %d", o, n, steps, bound)
			}
		}
		for n := 0; n <= maxNr; n++ {
			if _, steps := constAllow(p.Filters[0], uint32(info.ID), uint32(n)); steps > bound {
				t.Errorf("%+v: %s(%d) takes %d steps, more than %d", o, info.SyscallNumbers[n], n, steps, bound)
			}
		}
	}
}

// longJumpProfile writes a profile whose subtrees are longer than a
// conditional jump reaches, and returns the values its conditions compare.
func longJumpProfile(t *testing.T) (string, map[uint64]bool) {
	t.Helper()
	info := native(t)
	maxNr := 0
	for n := range info.SyscallNumbers {
		maxNr = max(maxNr, n)
	}
	type arg struct {
		Index uint   `json:"index"`
		Value uint64 `json:"value"`
		Op    string `json:"op"`
	}
	type rule struct {
		Names    []string `json:"names"`
		Action   string   `json:"action"`
		ErrnoRet *uint    `json:"errnoRet,omitempty"`
		Args     []arg    `json:"args,omitempty"`
	}
	ops := []string{"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE"}
	var rules []rule
	vals := map[uint64]bool{}
	for n := 0; n <= maxNr; n++ {
		name, ok := info.SyscallNumbers[n]
		if !ok {
			continue
		}
		errno := uint(n%120 + 1)
		switch n % 10 {
		case 3, 8: // unconditional errno
			rules = append(rules, rule{Names: []string{name}, Action: "SCMP_ACT_ERRNO", ErrnoRet: &errno})
		case 4, 5: // conditions on distinct arguments, ANDed; then a second rule
			var args []arg
			for i := range 3 {
				v := uint64(n*7+i) | uint64(i)<<32
				vals[v] = true
				args = append(args, arg{Index: uint(i), Value: v, Op: ops[(n+i)%len(ops)]})
			}
			rules = append(rules, rule{Names: []string{name}, Action: "SCMP_ACT_ERRNO", ErrnoRet: &errno, Args: args})
			if n%10 == 5 {
				v := uint64(n)
				vals[v] = true
				rules = append(rules, rule{Names: []string{name}, Action: "SCMP_ACT_KILL_PROCESS",
					Args: []arg{{Index: 3, Value: v, Op: "SCMP_CMP_EQ"}, {Index: 3, Value: v + 1, Op: "SCMP_CMP_EQ"}}})
			}
		default: // no rule: the default
		}
	}
	// One syscall whose equalities fill more than one block.
	var many []arg
	for i := range 300 {
		v := uint64(1000 + i)
		vals[v] = true
		many = append(many, arg{Index: 0, Value: v, Op: "SCMP_CMP_EQ"})
	}
	rules = append([]rule{{Names: []string{"getpid"}, Action: "SCMP_ACT_TRAP", Args: many}}, rules...)
	body, err := json.Marshal(map[string]any{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules})
	if err != nil {
		t.Fatal(err)
	}
	return writeProfile(t, string(body)), vals
}

// TestFileLongJumps compiles longJumpProfile, so that the search needs "ja"
// trampolines, and checks it against the rules like TestModel, and that the
// kernel's cache still finds every unconditional allow. (TestInstallTime has
// the kernel load it.)
func TestFileLongJumps(t *testing.T) {
	info := native(t)
	maxNr := 0
	for n := range info.SyscallNumbers {
		maxNr = max(maxNr, n)
	}
	path, vals := longJumpProfile(t)
	o := Options{Profile: path}
	rs, def, err := fileRules(o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := link(ModeFile, o.Profile, rs, def)
	if err != nil {
		t.Fatal(err)
	}
	f := p.Filters[0]
	trampolines := 0
	for _, in := range f {
		if in.Op == unix.BPF_JMP|unix.BPF_JA {
			trampolines++
		}
	}
	if trampolines == 0 {
		t.Fatalf("%d instructions and no trampoline: the test does not test them", len(f))
	}
	t.Logf("%d rules, %d instructions, %d trampolines", p.Rules, len(f), trampolines)

	args := argPatterns()
	for v := range vals {
		for _, w := range []uint64{v - 1, v, v + 1} {
			args = append(args, [6]uint64{w, w, w, w, w, w}, [6]uint64{w, w + 1, w + 1 - 1<<32, w})
		}
	}
	v := newVMs(t, p)
	bound := searchBound(t, rs, def) + 2
	bad := 0
	for n := 0; n <= maxNr+10; n++ {
		c := call{arch: uint32(info.ID), nr: int32(n)}
		allow, steps := constAllow(f, c.arch, uint32(n))
		if steps > bound {
			t.Errorf("%s(%d) takes %d steps, more than %d", info.SyscallNumbers[n], n, steps, bound)
		}
		e := rs.byNr[uint32(n)]
		if always := e == nil || e.clauses[0].unconditional() && e.clauses[0].action == retAllow; always != allow {
			t.Errorf("%s(%d): constant allow %v, want %v", info.SyscallNumbers[n], n, allow, always)
		}
		for _, a := range args {
			c.args = a
			if got, want := v.run(t, c), rs.verdict(c, def); got != want && bad < 20 {
				bad++
				t.Errorf("%s(%d) %x: got %s, want %s", info.SyscallNumbers[n], n, a, retName(got), retName(want))
			}
		}
	}
}

// TestConditionValues checks every syscall with argument conditions, in each
// default configuration, at and around each value its conditions compare,
// in every argument, with the high word set and not: the blocks that share
// one high-word test among equalities (socket's domains) and elastic's.
func TestConditionValues(t *testing.T) {
	info := native(t)
	for _, o := range defaultConfigs {
		rs, def, p := linkDefault(t, o)
		v := newVMs(t, p)
		for _, e := range rs.order {
			vals := map[uint64]bool{}
			for _, cl := range e.clauses {
				for _, set := range cl.sets {
					for _, c := range set {
						vals[c.Value] = true
					}
				}
				for _, x := range cl.low32 {
					vals[uint64(x)] = true
				}
			}
			if len(vals) == 0 {
				continue
			}
			for x := range uint64(70) {
				vals[x] = true
			}
			for x := range vals {
				for _, y := range []uint64{x - 1, x, x + 1, x | 1<<32, x ^ 1<<63, x &^ (1<<32 - 1)} {
					for i := range 6 {
						c := call{arch: uint32(info.ID), nr: int32(e.nr)}
						c.args[i] = y
						if got, want := v.run(t, c), rs.verdict(c, def); got != want {
							t.Fatalf("%+v: %s %x: got %s, want %s", o, e.name, c.args, retName(got), retName(want))
						}
					}
				}
			}
		}
	}
}

// TestLayoutSweep compiles rule sets whose leaves grow a little from one to
// the next, so that the jumps of the search cross the 255 that a
// conditional jump reaches at every distance (on amd64, mod 6 and w 20 once
// needed the slack in place), and checks each number's verdict, with
// arguments that match its conditions and without.
func TestLayoutSweep(t *testing.T) {
	info := native(t)
	maxNr := 0
	for n := range info.SyscallNumbers {
		maxNr = max(maxNr, n)
	}
	jas, compiled := 0, 0
	for _, mod := range []int{6, 14} {
		for w := 1; w <= 80; w++ {
			rs, err := newRuleSet()
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n <= maxNr; n++ {
				name, ok := info.SyscallNumbers[n]
				if !ok {
					continue
				}
				switch n % mod {
				case 0: // equalities, grouped
					var sets []elastic.ArgumentConditions
					for k := range w + n%5 {
						sets = append(sets, elastic.ArgumentConditions{{Argument: 0, Operation: elastic.Equal, Value: uint64(n*1000 + k)}})
					}
					rs.add(name, clause{action: retEPERM, sets: sets})
				case 2: // elastic's blocks
					rs.add(name, clause{action: retENOSYS, sets: []elastic.ArgumentConditions{{
						{Argument: 1, Operation: elastic.GreaterThan, Value: uint64(n * 1000)},
					}}})
					if n%4 == 0 {
						rs.add(name, clause{action: retEPERM})
					}
				case 3, 4: // unconditional, with verdicts that vary with w
					rs.add(name, clause{action: uint32(unix.SECCOMP_RET_ERRNO) | uint32(n%(w%7+1)+1)})
				}
			}
			def := retAllow
			p, err := link(ModeFile, "", rs, def)
			if err != nil {
				if strings.Contains(err.Error(), "more than the kernel's") {
					continue
				}
				t.Fatalf("mod %d, w %d: %v", mod, w, err)
			}
			compiled++
			for _, in := range p.Filters[0] {
				if in.Op == unix.BPF_JMP|unix.BPF_JA {
					jas++
				}
			}
			v := newVMs(t, p)
			for n := 0; n <= maxNr+1; n++ {
				x := uint64(n * 1000)
				for _, a := range [][6]uint64{{}, {x, x + 1}, {x + uint64(w) - 1, x}, {x + uint64(w+n%5), x}} {
					c := call{arch: uint32(info.ID), nr: int32(n), args: a}
					if got, want := v.run(t, c), rs.verdict(c, def); got != want {
						t.Fatalf("mod %d, w %d, %d instructions: %s(%d) %x: got %s, want %s", mod, w, len(p.Filters[0]), info.SyscallNumbers[n], n, a, retName(got), retName(want))
					}
				}
			}
		}
	}
	if compiled < 40 || jas == 0 {
		t.Errorf("%d rule sets compiled, %d trampolines: the sweep does not test what it should", compiled, jas)
	}
	t.Logf("%d rule sets, %d trampolines", compiled, jas)
}
