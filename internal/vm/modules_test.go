package vm

import (
	"strings"
	"testing"
)

// TestLoadOrder reads the real kernel's modules, where there is one (TestVM
// says what is missing otherwise): each module after those it depends on.
func TestLoadOrder(t *testing.T) {
	k, err := FindKernel()
	if err != nil {
		t.Skip(err)
	}
	mods, err := loadOrder(k.Modules, vmModules)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	var names []string
	for i, m := range mods {
		pos[m.name] = i
		names = append(names, m.name)
		deps, err := moduleDepends(m.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps {
			if j, ok := pos[modName(d)]; !ok || j > i {
				t.Errorf("%s is loaded before %s, which it needs", m.name, d)
			}
		}
	}
	t.Logf("load order: %s", strings.Join(names, " "))
	for _, n := range vmModules {
		if _, ok := pos[n]; !ok {
			t.Logf("%s: built in", n)
		}
	}
}
