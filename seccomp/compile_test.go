//go:build linux

package seccomp

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The program travels from sbx's parent to PID 1 as JSON.
func TestProgramJSON(t *testing.T) {
	p := mustCompile(t, Options{Caps: dockerCaps})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Program
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, &q) {
		t.Fatal("program changed in JSON")
	}
	t.Logf("%d bytes of JSON", len(b))
}

// Compile runs in sbx's parent on every run.
func TestCompileTime(t *testing.T) {
	mustCompile(t, Options{Caps: dockerCaps}) // warm up (kernel version, tables)
	const n = 50
	start := time.Now()
	for range n {
		mustCompile(t, Options{Caps: dockerCaps})
	}
	per := time.Since(start) / n
	t.Logf("Compile(default): %v", per)
	if per > 50*time.Millisecond {
		t.Errorf("Compile takes %v", per)
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(Options{Caps: dockerCaps}); err != nil {
			b.Fatal(err)
		}
	}
}
