package cgdelegate

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// fresh61 is what a new cgroup shows on Linux 6.1 when its parent enables
// cpuset cpu io memory pids for it: the files these tests touch, with the
// kernel's defaults (Documentation/admin-guide/cgroup-v2.rst).
var fresh61 = map[string]string{
	"cgroup.controllers":     "cpuset cpu io memory pids\n",
	"cgroup.subtree_control": "\n",
	"cgroup.events":          "populated 0\nfrozen 0\n",
	"cgroup.procs":           "",
	"cgroup.kill":            "",
	"memory.max":             "max\n",
	"memory.swap.max":        "max\n",
	"memory.current":         "0\n",
	"memory.peak":            "0\n",
	"memory.events":          "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
	"cpu.max":                "max 100000\n",
	"cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\ncore_sched.force_idle_usec 0\n" +
		"nr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n",
	"cpuset.cpus":           "\n",
	"cpuset.cpus.effective": "0-7\n",
	"pids.max":              "max\n",
	"pids.current":          "0\n",
	"pids.peak":             "0\n",
	"io.max":                "",
	"io.stat":               "",
}

// cgroupDir lays out a cgroup directory: fresh61 with files changed to
// the contents given, and removed where the content is "-".
func cgroupDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := maps.Clone(fresh61)
	maps.Copy(all, files)
	for name, content := range all {
		if content == "-" {
			continue
		}
		noErr(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

// readBack reads back a file that a setter wrote.
func readBack(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	noErr(t, err)
	return string(b)
}

func TestWriteFile(t *testing.T) {
	dir := cgroupDir(t, nil)
	noErr(t, writeFile(dir, "memory.max", "67108864"))
	if got := readBack(t, dir, "memory.max"); got != "67108864" {
		t.Errorf("memory.max holds %q", got)
	}
	// Shorter than what was there: the file holds only the new value.
	noErr(t, writeFile(dir, "memory.max", "1"))
	if got := readBack(t, dir, "memory.max"); got != "1" {
		t.Errorf("memory.max holds %q", got)
	}
}

func TestWriteFileMissing(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"memory.max": "-"})
	err := writeFile(dir, "memory.max", "67108864")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	want := `write "67108864" to ` + filepath.Join(dir, "memory.max") + ": no such file or directory"
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "memory.max")); err == nil {
		t.Error("writeFile created the file")
	}
}

func TestWriteFileNoFollow(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"memory.max": "-"})
	target := filepath.Join(t.TempDir(), "elsewhere")
	noErr(t, os.WriteFile(target, []byte("max\n"), 0o644))
	noErr(t, os.Symlink(target, filepath.Join(dir, "memory.max")))
	err := writeFile(dir, "memory.max", "1")
	if !errors.Is(err, syscall.ELOOP) {
		t.Errorf("err = %v, want ELOOP", err)
	}
	if got := readBack(t, filepath.Dir(target), "elsewhere"); got != "max\n" {
		t.Errorf("the link's target was written: %q", got)
	}
}

func TestWriteFileReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes a read-only file; run as a user for this case")
	}
	dir := cgroupDir(t, nil)
	noErr(t, os.Chmod(filepath.Join(dir, "pids.max"), 0o444))
	err := writeFile(dir, "pids.max", "10")
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), `write "10" to `+filepath.Join(dir, "pids.max")) {
		t.Errorf("err = %v", err)
	}
}

func TestWriteLines(t *testing.T) {
	dir := cgroupDir(t, nil)
	noErr(t, writeLines(dir, "io.max", []string{"8:0 rbps=1", "8:16 wbps=2"}))
	// A plain file collects the writes one after the other; cgroupfs
	// takes each as a setting.
	if got := readBack(t, dir, "io.max"); got != "8:0 rbps=18:16 wbps=2" {
		t.Errorf("io.max holds %q", got)
	}
}

func TestReadFile(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"big": strings.Repeat("x", maxFileSize+1)})
	if _, err := readFile(dir, "big"); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a file over the bound: %v", err)
	}
	if _, err := readFile(dir, "nothing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if s, err := readFile(dir, "memory.max"); err != nil || s != "max\n" {
		t.Errorf("readFile = %q, %v", s, err)
	}
}

func TestReadValue(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"memory.max": "67108864\n", "pids.max": "max\n", "memory.current": "lots\n", "memory.peak": "\n"})
	if v, isMax, err := readValue(dir, "memory.max"); v != 67108864 || isMax || err != nil {
		t.Errorf("memory.max: %d %v %v", v, isMax, err)
	}
	if v, isMax, err := readValue(dir, "pids.max"); v != 0 || !isMax || err != nil {
		t.Errorf("pids.max: %d %v %v", v, isMax, err)
	}
	for _, name := range []string{"memory.current", "memory.peak"} {
		if _, _, err := readValue(dir, name); err == nil || !strings.Contains(err.Error(), "is not a number or max") {
			t.Errorf("%s: %v", name, err)
		}
		if p := optional(dir, name); p != nil {
			t.Errorf("optional(%s) = %d, want nil", name, *p)
		}
	}
	if p := optional(dir, "pids.max"); p != nil {
		t.Errorf("optional(pids.max) = %d, want nil for max", *p)
	}
	if p := optional(dir, "pids.peak"); p == nil || *p != 0 {
		t.Errorf("optional(pids.peak) = %v", p)
	}
	if p := optional(dir, "missing"); p != nil {
		t.Errorf("optional(missing) = %d", *p)
	}
}

func TestParseFlat(t *testing.T) {
	got := parseFlat("low 0\nhigh 3\nmax 17\noom 2\noom_kill 1\n\nbroken\nweird x\nthree a b\nhuge 99999999999999999999\n")
	want := map[string]int64{"low": 0, "high": 3, "max": 17, "oom": 2, "oom_kill": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseFlat = %v, want %v", got, want)
	}
	if m := parseFlat(""); len(m) != 0 {
		t.Errorf("parseFlat(\"\") = %v", m)
	}
}

func TestParseNested(t *testing.T) {
	got := parseNested("8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n" +
		"8:0 rbps=2097152 wbps=max riops=max wiops=120\n\n   \n253:0 junk =x y=\n")
	want := []nestedLine{
		{"8:16", map[string]string{"rbytes": "1459200", "wbytes": "314773504", "rios": "192", "wios": "353", "dbytes": "0", "dios": "0"}},
		{"8:0", map[string]string{"rbps": "2097152", "wbps": "max", "riops": "max", "wiops": "120"}},
		{"253:0", map[string]string{"y": ""}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseNested = %#v\nwant %#v", got, want)
	}
}

// FuzzStatParsers feeds the accounting parsers whatever a file could hold:
// they must not panic, and what they return must be in the input.
func FuzzStatParsers(f *testing.F) {
	f.Add(fresh61["cpu.stat"])
	f.Add(fresh61["memory.events"])
	f.Add("8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n")
	f.Add("populated 1\nfrozen 0\n")
	f.Add("a\x00b 1\n=\n8:0 ==\n\xff 3")
	f.Fuzz(func(t *testing.T, s string) {
		for k := range parseFlat(s) {
			if !strings.Contains(s, k) {
				t.Fatalf("key %q is not in the input", k)
			}
		}
		for _, l := range parseNested(s) {
			if l.Key == "" || !strings.Contains(s, l.Key) {
				t.Fatalf("key %q is not in the input", l.Key)
			}
		}
		dir := t.TempDir()
		for _, name := range []string{"io.stat", "cpu.stat", "memory.events", "cgroup.events", "memory.peak"} {
			noErr(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
		}
		for _, st := range ReadIO(dir) {
			if st.RBytes < 0 && !strings.Contains(s, "rbytes=-") {
				t.Fatalf("rbytes %d from %q", st.RBytes, s)
			}
		}
		ReadCPU(dir)
		ReadMemory(dir)
		Populated(dir)
	})
}
