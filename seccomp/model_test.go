//go:build linux

package seccomp

import (
	"math/rand/v2"
	"testing"

	elastic "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/sys/unix"
)

// verdict evaluates the rule set directly: the reference the compiled
// filter must agree with.
func (rs *ruleSet) verdict(c call, def uint32) uint32 {
	e := rs.byNr[uint32(c.nr)]
	if e == nil {
		return def
	}
	for _, cl := range e.clauses {
		if cl.matches(c.args) {
			return cl.action
		}
	}
	return def
}

func (c clause) matches(args [6]uint64) bool {
	if c.low32 != nil {
		for _, v := range c.low32 {
			if uint32(args[c.low32Arg]) == v {
				return true
			}
		}
		return false
	}
	if c.sets == nil {
		return true
	}
	for _, set := range c.sets {
		ok := true
		for _, cond := range set {
			a, v := args[cond.Argument], cond.Value
			switch cond.Operation {
			case elastic.Equal:
				ok = a == v
			case elastic.NotEqual:
				ok = a != v
			case elastic.LessThan:
				ok = a < v
			case elastic.LessOrEqual:
				ok = a <= v
			case elastic.GreaterThan:
				ok = a > v
			case elastic.GreaterOrEqual:
				ok = a >= v
			case elastic.BitsSet:
				ok = a&v != 0
			case elastic.BitsNotSet:
				ok = a&v == 0
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// argPatterns are argument vectors that exercise the conditions: zeros,
// small numbers that are also syscall numbers (an accumulator left holding an
// argument would match them), the flag and request values the rules test,
// high words set, and random values.
func argPatterns() [][6]uint64 {
	vals := []uint64{
		0, 1, 2, 3, 8, 10, 16, 40, 41, 56, 59, 0x11, 0x5412, 0x541c,
		unix.TCGETS, unix.TIOCSTI | 1<<32, unix.CLONE_NEWUSER, unix.CLONE_NEWNS | 0x11,
		0x7E020000, 0x80, 0x20000, 0x20008, 0x0400000, 0xffffffff, 1 << 32, 1<<32 | 2,
		^uint64(0),
	}
	var out [][6]uint64
	for _, v := range vals {
		out = append(out, [6]uint64{v, v, v, v, v, v}, [6]uint64{v}, [6]uint64{0, v})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		var a [6]uint64
		for i := range a {
			a[i] = r.Uint64() >> (r.IntN(4) * 16)
		}
		out = append(out, a)
	}
	return out
}

// defaultConfigs are the default filter's configurations the layout tests
// go through: no capabilities, Docker's, with CAP_SYS_ADMIN, and nested
// namespaces allowed.
var defaultConfigs = []Options{{}, {Caps: dockerCaps}, {Caps: withAdmin}, {Caps: dockerCaps, AllowNestedUserns: true}}

// linkDefault compiles o's default rules and lays them out.
func linkDefault(t *testing.T, o Options) (*ruleSet, uint32, *Program) {
	t.Helper()
	rs, def, err := defaultRules(o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := link(ModeDefault, "", rs, def)
	if err != nil {
		t.Fatal(err)
	}
	return rs, def, p
}

// TestModel checks every syscall number of the native table (and some past
// it) with every argument pattern against the rule set.
func TestModel(t *testing.T) {
	info := native(t)
	for _, o := range defaultConfigs {
		rs, def, p := linkDefault(t, o)
		v := newVMs(t, p)
		maxNr := 0
		for n := range info.SyscallNumbers {
			maxNr = max(maxNr, n)
		}
		args := argPatterns()
		bad := 0
		for n := 0; n <= maxNr+10; n++ {
			for _, a := range args {
				c := call{arch: uint32(info.ID), nr: int32(n), args: a}
				want := rs.verdict(c, def)
				if got := v.run(t, c); got != want && bad < 20 {
					bad++
					t.Errorf("%+v: %s(%d) %x: got %s, want %s", o, info.SyscallNumbers[n], n, a, retName(got), retName(want))
				}
			}
		}
	}
}
