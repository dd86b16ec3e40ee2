package cgdelegate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setMeminfo points the swap check at a file holding meminfo.
func setMeminfo(t *testing.T, meminfo string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meminfo")
	noErr(t, os.WriteFile(path, []byte(meminfo), 0o444))
	old := procMeminfo
	procMeminfo = path
	t.Cleanup(func() { procMeminfo = old })
}

// Lines of /proc/meminfo on a 6.1 host without and with swap.
const (
	noSwap  = "MemTotal:       16303316 kB\nMemFree:         9876543 kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
	hasSwap = "MemTotal:       16303316 kB\nMemFree:         9876543 kB\nSwapCached:            0 kB\nSwapTotal:       8388604 kB\nSwapFree:        8388604 kB\n"
)

func TestSetMemory(t *testing.T) {
	for _, swap := range []string{"0", "max", "67108864"} {
		dir := cgroupDir(t, nil)
		noErr(t, SetMemory(dir, 64<<20, swap))
		if got := readBack(t, dir, "memory.max"); got != "67108864" {
			t.Errorf("memory.max holds %q", got)
		}
		if got := readBack(t, dir, "memory.swap.max"); got != swap {
			t.Errorf("memory.swap.max holds %q, want %q", got, swap)
		}
	}
	// "" leaves swap as it is.
	dir := cgroupDir(t, nil)
	noErr(t, SetMemory(dir, 1<<30, ""))
	if got := readBack(t, dir, "memory.swap.max"); got != "max\n" {
		t.Errorf("memory.swap.max holds %q", got)
	}
	if err := SetMemory(dir, 0, "0"); err == nil {
		t.Error("a zero limit was written")
	}
}

func TestSetMemoryNoController(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"memory.max": "-", "memory.swap.max": "-"})
	if err := SetMemory(dir, 64<<20, "0"); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNoSwapAccounting) {
		t.Errorf("err = %v, want fs.ErrNotExist", err)
	}
}

// TestSetMemoryNoSwapAccounting: a kernel without swap accounting has no
// memory.swap.max.
func TestSetMemoryNoSwapAccounting(t *testing.T) {
	cases := []struct {
		swaps, swapMax string
		ok             bool
		want           string
	}{
		{noSwap, "0", true, ""},    // nothing to swap to
		{hasSwap, "max", true, ""}, // unlimited swap asked, and given
		{noSwap, "max", true, ""},
		{hasSwap, "0", false, "the host has swap: the sandbox could swap beyond --memory"},
		{hasSwap, "67108864", false, "--memory-swap cannot be enforced"},
		{noSwap, "67108864", false, "--memory-swap cannot be enforced"},
	}
	for _, c := range cases {
		setMeminfo(t, c.swaps)
		dir := cgroupDir(t, map[string]string{"memory.swap.max": "-"})
		err := SetMemory(dir, 64<<20, c.swapMax)
		if c.ok && err != nil || !c.ok && (!errors.Is(err, ErrNoSwapAccounting) || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("host swap %v, memory.swap.max %q: err = %v", c.swaps == hasSwap, c.swapMax, err)
		}
		if got := readBack(t, dir, "memory.max"); got != "67108864" {
			t.Errorf("memory.max holds %q", got)
		}
	}
	// /proc/meminfo unreadable, or without SwapTotal: swap is taken to be
	// there.
	for _, meminfo := range []string{"", "MemTotal:       16303316 kB\n"} {
		setMeminfo(t, meminfo)
		if meminfo == "" {
			procMeminfo = filepath.Join(t.TempDir(), "missing")
		}
		dir := cgroupDir(t, map[string]string{"memory.swap.max": "-"})
		if err := SetMemory(dir, 64<<20, "0"); !errors.Is(err, ErrNoSwapAccounting) {
			t.Errorf("meminfo %q: err = %v", meminfo, err)
		}
	}
}

func TestReadMemory(t *testing.T) {
	dir := cgroupDir(t, map[string]string{
		"memory.max":     "67108864\n",
		"memory.current": "1880064\n",
		"memory.peak":    "67108864\n",
		"memory.events":  "low 0\nhigh 0\nmax 1842\noom 3\noom_kill 1\noom_group_kill 0\n",
	})
	got := ReadMemory(dir)
	check := func(name string, p *int64, want int64) {
		t.Helper()
		if p == nil || *p != want {
			t.Errorf("%s = %v, want %d", name, p, want)
		}
	}
	check("Max", got.Max, 64<<20)
	check("Current", got.Current, 1880064)
	check("Peak", got.Peak, 64<<20)
	check("OOM", got.OOM, 3)
	check("OOMKills", got.OOMKills, 1)
}

// TestReadMemoryOld: Linux 5.10 has no memory.peak; no limit reads as nil.
func TestReadMemoryOld(t *testing.T) {
	dir := cgroupDir(t, map[string]string{
		"memory.peak":   "-",
		"memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
	})
	got := ReadMemory(dir)
	if got.Peak != nil || got.Max != nil {
		t.Errorf("Peak %v, Max %v: want nil", got.Peak, got.Max)
	}
	if got.Current == nil || got.OOMKills == nil || *got.OOMKills != 0 {
		t.Errorf("Current %v, OOMKills %v", got.Current, got.OOMKills)
	}
}

func TestReadMemoryNone(t *testing.T) {
	if got := ReadMemory(t.TempDir()); got != (MemoryStats{}) {
		t.Errorf("ReadMemory of an empty directory = %+v", got)
	}
}
