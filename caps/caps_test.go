package caps

import (
	"slices"
	"strings"
	"testing"
)

const lastCap = 40 // CAP_CHECKPOINT_RESTORE

func TestNamesIndexedByNumber(t *testing.T) {
	for name, want := range map[string]int{"CAP_CHOWN": 0, "CAP_SYS_PTRACE": SysPtrace, "CAP_SYS_ADMIN": SysAdmin, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40} {
		if got, err := number(name); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", name, got, err, want)
		}
	}
}

func TestDefaultIsDockers(t *testing.T) {
	got := Default().Names()
	want := slices.Clone(dockerDefault)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("default %v, want %v", got, want)
	}
	for _, c := range []int{SysAdmin, SysPtrace, 12 /* NET_ADMIN */, 16 /* SYS_MODULE */, 39 /* BPF */} {
		if Default().Has(c) {
			t.Errorf("default holds %s", names[c])
		}
	}
}

func TestResolve(t *testing.T) {
	cases := []struct {
		add, drop []string
		has       []string
		hasNot    []string
		count     int
	}{
		{nil, nil, []string{"CAP_CHOWN", "CAP_SETUID"}, []string{"CAP_SYS_ADMIN"}, 14},
		{[]string{"sys_ptrace"}, nil, []string{"CAP_SYS_PTRACE", "CAP_CHOWN"}, nil, 15},
		{[]string{"CAP_NET_ADMIN"}, []string{"chown", "Cap_Kill"}, []string{"CAP_NET_ADMIN"}, []string{"CAP_CHOWN", "CAP_KILL"}, 13},
		{nil, []string{"ALL"}, nil, []string{"CAP_CHOWN"}, 0},
		{[]string{"CHOWN"}, []string{"all"}, []string{"CAP_CHOWN"}, []string{"CAP_SETUID"}, 1},
		{[]string{"ALL"}, []string{"SYS_ADMIN"}, []string{"CAP_BPF", "CAP_SYS_PTRACE"}, []string{"CAP_SYS_ADMIN"}, 40},
		{[]string{"ALL"}, nil, []string{"CAP_SYS_ADMIN"}, nil, 41},
	}
	for _, c := range cases {
		s, err := Resolve(c.add, c.drop, lastCap)
		if err != nil {
			t.Errorf("add %v drop %v: %v", c.add, c.drop, err)
			continue
		}
		got := s.Names()
		for _, n := range c.has {
			if !slices.Contains(got, n) {
				t.Errorf("add %v drop %v: %v lacks %s", c.add, c.drop, got, n)
			}
		}
		for _, n := range c.hasNot {
			if slices.Contains(got, n) {
				t.Errorf("add %v drop %v: %v holds %s", c.add, c.drop, got, n)
			}
		}
		if len(got) != c.count {
			t.Errorf("add %v drop %v: %d capabilities, want %d", c.add, c.drop, len(got), c.count)
		}
	}
}

func TestResolveRefusesUnknownNames(t *testing.T) {
	for _, c := range []struct{ add, drop []string }{{[]string{"CAP_FLY"}, nil}, {nil, []string{""}}, {[]string{"SYS ADMIN"}, nil}} {
		if _, err := Resolve(c.add, c.drop, lastCap); err == nil || !strings.Contains(err.Error(), "unknown capability") {
			t.Errorf("add %q drop %q: err %v", c.add, c.drop, err)
		}
	}
	// A name the kernel does not know yet.
	if _, err := Resolve([]string{"CAP_BPF"}, nil, 37); err == nil || !strings.Contains(err.Error(), "not known to this kernel") {
		t.Errorf("CAP_BPF on a 5.7 kernel: %v", err)
	}
	// Docker's default is clipped to what the kernel knows.
	if s, err := Resolve(nil, nil, 30); err != nil || s.Has(31) {
		t.Errorf("default on an old kernel: %v %v", s.Names(), err)
	}
}
