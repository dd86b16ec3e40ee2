package cgdelegate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// checkValueError fails unless err is a *ValueError whose text starts with
// the value quoted and contains want.
func checkValueError(t *testing.T, err error, value, want string) {
	t.Helper()
	var ve *ValueError
	if !errors.As(err, &ve) {
		t.Fatalf("%q: error %v (%T), want a *ValueError", value, err, err)
	}
	if !strings.HasPrefix(err.Error(), strconv.Quote(value)+": ") {
		t.Errorf("%q: error %q does not start with the quoted value", value, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%q: error %q does not say %q", value, err, want)
	}
}

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"1048576", 1048576},
		{"1", 1},
		{"512b", 512},
		{"512k", 512 << 10},
		{"512K", 512 << 10},
		{"64M", 64 << 20},
		{"64m", 64 << 20},
		{"64MiB", 64 << 20},
		{"64MB", 64 << 20},
		{"64mb", 64 << 20},
		{"64mib", 64 << 20},
		{"1g", 1 << 30},
		{"1Gi" + "B", 1 << 30},
		{"2T", 2 << 40},
		{"2tb", 2 << 40},
		{"1.5g", 3 << 29},
		{"0.5k", 512},
		{"007m", 7 << 20},
		{"9223372036854775807", 1<<63 - 1},
		{"8388607t", 8388607 << 40},
	}
	for _, c := range good {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "a size is a number with an optional unit k, m, g or t (powers of 1024), e.g. 512m"},
		{"64Q", "a size is a number with an optional unit k, m, g or t"},
		{"m", "a size is a number"},
		{"1.5", "a fraction needs a unit"},
		{"1.g", "a size is a number"},
		{".5g", "a size is a number"},
		{"1.2.3g", "a size is a number"},
		{"1 g", "a size is a number"},
		{" 1g", "a size is a number"},
		{"+1g", "a size is a number"},
		{"0x10", "a size is a number"},
		{"1e6", "a size is a number"},
		{"1kk", "a size is a number"},
		{"1pb", "a size is a number"},
		{"-1", "cannot be negative"},
		{"-64m", "cannot be negative"},
		{"0", "more than zero"},
		{"0m", "more than zero"},
		{"0.0001k", "more than zero"},
		{"9223372036854775808", "at most 8 exabytes"},
		{"8388608t", "at most 8 exabytes"},
		{"99999999999999999999999999999g", "at most 8 exabytes"},
	}
	for _, c := range bad {
		_, err := ParseSize(c.in)
		checkValueError(t, err, c.in, c.want)
	}
}

func TestParseCPUs(t *testing.T) {
	good := map[string]float64{"0.25": 0.25, "2": 2, "1.5": 1.5, ".5": 0.5, "3.": 3, "0.01": 0.01, "1024": 1024, "0001": 1}
	for in, want := range good {
		if got, err := ParseCPUs(in); err != nil || got != want {
			t.Errorf("ParseCPUs(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0.0", "0.009", "-1", "1025", "1e2", "inf", "NaN", "0x1p-2", ".", "1.2.3", "1,5", " 1", "1_000", "+1"} {
		_, err := ParseCPUs(in)
		checkValueError(t, err, in, "a CPU count is a decimal number from 0.01 to 1024")
	}
}

func TestCPUMax(t *testing.T) {
	for cpus, want := range map[float64]string{
		0.25:  "25000 100000",
		1:     "100000 100000",
		1.5:   "150000 100000",
		0.01:  "1000 100000",
		0.015: "1500 100000",
		0.001: "1000 100000", // below the kernel's minimum quota
		1024:  "102400000 100000",
		0.333: "33300 100000",
	} {
		if got := CPUMax(cpus); got != want {
			t.Errorf("CPUMax(%v) = %q, want %q", cpus, got, want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string]string{
		"0-3,5":     "0-3,5",
		"1":         "1",
		"0,1,2,3":   "0-3",
		"0,1":       "0-1",
		"5-5":       "5",
		"0-1,2-3":   "0-3",
		"5,0-3":     "0-3,5",
		"1-4,2-3":   "1-4",
		"0,2,4":     "0,2,4",
		"8191":      "8191",
		"8190-8191": "8190-8191",
		"007":       "7",
	} {
		if got, err := ParseCPUList(in); err != nil || got != want {
			t.Errorf("ParseCPUList(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                       "a CPU list is CPU numbers and ranges",
		"a":                      "a CPU list is",
		"1,":                     "a CPU list is",
		",1":                     "a CPU list is",
		"1-":                     "a CPU list is",
		"-1":                     "a CPU list is",
		"1-2-3":                  "a CPU list is",
		"0-7:2/4":                "a CPU list is",
		"0 - 3":                  "a CPU list is",
		"1;2":                    "a CPU list is",
		"3-1":                    "goes downwards; write it 1-3",
		"8192":                   "at most 8191",
		"0-99999999999999999999": "at most 8191",
	}
	for in, want := range bad {
		_, err := ParseCPUList(in)
		checkValueError(t, err, in, want)
	}
}

func TestParsePids(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "256": 256, "4194304": 4194304} {
		if got, err := ParsePids(in); err != nil || got != want {
			t.Errorf("ParsePids(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "4194305", "1k", "+5", "1.0", "max", "99999999999999999999"} {
		_, err := ParsePids(in)
		checkValueError(t, err, in, "a process count is a whole number from 1 to 4194304")
	}
}

func TestParseMemorySwap(t *testing.T) {
	const m = 64 << 20
	good := []struct {
		memory int64
		swap   string
		want   string
	}{
		{0, "", ""},             // neither flag: leave swap alone
		{m, "", "0"},            // --memory alone: no swap
		{m, "64m", "0"},         // total equal to memory: no swap
		{m, "128m", "67108864"}, // 64m of swap
		{m, "1g", strconv.Itoa(1<<30 - m)},
		{m, "-1", "max"},
	}
	for _, c := range good {
		if got, err := ParseMemorySwap(c.memory, c.swap); err != nil || got != c.want {
			t.Errorf("ParseMemorySwap(%d, %q) = %q, %v; want %q", c.memory, c.swap, got, err, c.want)
		}
	}
	bad := []struct {
		memory     int64
		swap, want string
	}{
		{0, "1g", "needs --memory"},
		{0, "-1", "needs --memory"},
		{m, "32m", "at least --memory (67108864 bytes); -1 for unlimited swap"},
		{m, "-2", "the only negative value is -1"},
		{m, "-1m", "the only negative value is -1"},
		{m, "0", "more than zero"},
		{m, "lots", "a size is a number"},
	}
	for _, c := range bad {
		_, err := ParseMemorySwap(c.memory, c.swap)
		checkValueError(t, err, c.swap, c.want)
	}
}

// firstBlockDevice is a block device node of this host that is a whole
// disk (loop0, vda, sda...), or "".
func firstBlockDevice() string {
	entries, _ := os.ReadDir("/dev")
	for _, e := range entries {
		if e.Type()&os.ModeDevice == 0 || e.Type()&os.ModeCharDevice != 0 {
			continue
		}
		path := filepath.Join("/dev", e.Name())
		var st unix.Stat_t
		if unix.Stat(path, &st) != nil {
			continue
		}
		sys := fmt.Sprintf("/sys/dev/block/%d:%d/partition", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		if _, err := os.Stat(sys); err != nil {
			return path
		}
	}
	return ""
}

// setSysDevBlock points the partition check at sys for the test.
func setSysDevBlock(t *testing.T, sys string) {
	old := sysDevBlock
	sysDevBlock = sys
	t.Cleanup(func() { sysDevBlock = old })
}

func TestParseIOLimitNumbers(t *testing.T) {
	setSysDevBlock(t, t.TempDir()) // no partitions known
	good := []struct {
		in   string
		want IOLimit
	}{
		{"8:0:10m", IOLimit{Dev: "8:0", Major: 8, Minor: 0, BytesPerSec: 10 << 20}},
		{"8:16:1M/s", IOLimit{Dev: "8:16", Major: 8, Minor: 16, BytesPerSec: 1 << 20}},
		{"259:0:512k", IOLimit{Dev: "259:0", Major: 259, Minor: 0, BytesPerSec: 512 << 10}},
		{"254:0:1048576", IOLimit{Dev: "254:0", Major: 254, BytesPerSec: 1 << 20}},
		{"254:0:2mb/S", IOLimit{Dev: "254:0", Major: 254, BytesPerSec: 2 << 20}},
		{"4095:1048575:1k", IOLimit{Dev: "4095:1048575", Major: 4095, Minor: 1048575, BytesPerSec: 1024}},
	}
	for _, c := range good {
		if got, err := ParseIOLimit(c.in); err != nil || got != c.want {
			t.Errorf("ParseIOLimit(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := map[string]string{
		"":             "an I/O limit is DEVICE:RATE",
		"10m":          "an I/O limit is DEVICE:RATE",
		":10m":         "an I/O limit is DEVICE:RATE",
		"8:0":          "an I/O limit is DEVICE:RATE", // device "8", which is no device
		"sda:10m":      "an I/O limit is DEVICE:RATE",
		"8:x:10m":      "an I/O limit is DEVICE:RATE",
		"8:0:":         "the rate is bytes per second; a size is a number",
		"8:0:/s":       "the rate is bytes per second; a size is a number",
		"8:0:10q":      "the rate is bytes per second; a size is a number",
		"8:0:0":        "the rate is bytes per second; a size must be more than zero",
		"8:0:-1m":      "the rate is bytes per second; a size cannot be negative",
		"8:0:max":      "the rate is bytes per second; a size is a number",
		"4096:0:1m":    "out of range",
		"8:1048576:1m": "out of range",
	}
	for in, want := range bad {
		_, err := ParseIOLimit(in)
		checkValueError(t, err, in, want)
	}
}

// TestParseIOLimitPath reads a real device of this host, with the real
// sysfs.
func TestParseIOLimitPath(t *testing.T) {
	dev := firstBlockDevice()
	if dev == "" {
		t.Skip("no block device in /dev: the path form is tested on hosts that have one")
	}
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	want := IOLimit{Dev: dev, Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev), BytesPerSec: 10 << 20}
	if got, err := ParseIOLimit(dev + ":10m"); err != nil || got != want {
		t.Errorf("ParseIOLimit(%q) = %+v, %v; want %+v", dev+":10m", got, err, want)
	}
	// A link to the device, as /dev/disk/by-id/... are, is followed.
	link := filepath.Join(t.TempDir(), "by-id")
	if err := os.Symlink(dev, link); err != nil {
		t.Fatal(err)
	}
	want.Dev = link
	if got, err := ParseIOLimit(link + ":10M/s"); err != nil || got != want {
		t.Errorf("ParseIOLimit(%q) = %+v, %v; want %+v", link+":10M/s", got, err, want)
	}
}

func TestParseIOLimitNotBlock(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]string{
		"/dev/null:1m":      "/dev/null is not a block device",
		dir + ":1m":         "is not a block device",
		dir + "/missing:1m": "missing: no such file or directory",
		"/dev/null:0":       "/dev/null is not a block device", // the device is checked first
		"/dev/null":         "an I/O limit is DEVICE:RATE",     // "/dev/null" has no colon
		"relative/path:1m":  "an I/O limit is DEVICE:RATE",
	} {
		_, err := ParseIOLimit(in)
		checkValueError(t, err, in, want)
	}
}

// fakePartition lays out sysfs as the kernel does for disk 8:0 (sda) and
// its partition 8:1 (sda1): /sys/dev/block/MAJ:MIN are links into
// /sys/devices, a partition's directory within its disk's.
func fakePartition(t *testing.T) {
	t.Helper()
	sys := t.TempDir()
	disk := filepath.Join(sys, "devices", "pci0000:00", "block", "sda")
	part := filepath.Join(disk, "sda1")
	noErr(t, os.MkdirAll(part, 0o755))
	noErr(t, os.WriteFile(filepath.Join(disk, "dev"), []byte("8:0\n"), 0o644))
	noErr(t, os.WriteFile(filepath.Join(part, "dev"), []byte("8:1\n"), 0o644))
	noErr(t, os.WriteFile(filepath.Join(part, "partition"), []byte("1\n"), 0o644))
	noErr(t, os.MkdirAll(filepath.Join(sys, "dev", "block"), 0o755))
	noErr(t, os.Symlink("../../devices/pci0000:00/block/sda", filepath.Join(sys, "dev", "block", "8:0")))
	noErr(t, os.Symlink("../../devices/pci0000:00/block/sda/sda1", filepath.Join(sys, "dev", "block", "8:1")))
	setSysDevBlock(t, filepath.Join(sys, "dev", "block"))
}

func TestParseIOLimitPartition(t *testing.T) {
	fakePartition(t)
	_, err := ParseIOLimit("8:1:10m")
	checkValueError(t, err, "8:1:10m", "8:1 is a partition; I/O limits apply to whole disks only: name disk 8:0 (/dev/sda)")
	if l, err := ParseIOLimit("8:0:10m"); err != nil || l.Major != 8 || l.Minor != 0 {
		t.Errorf("the disk 8:0: %+v, %v", l, err)
	}
	// By path: a node of the partition's numbers, which root may make.
	node := filepath.Join(t.TempDir(), "sda1")
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(8, 1))); err != nil {
		t.Skipf("no block device node of our own (%v): the path form of a partition is tested as root", err)
	}
	_, err = ParseIOLimit(node + ":10m")
	checkValueError(t, err, node+":10m", node+" (8:1) is a partition; I/O limits apply to whole disks only: name disk 8:0 (/dev/sda)")
}

func TestValueErrorFormat(t *testing.T) {
	_, err := ParseSize("64Q")
	if got, want := "--memory "+err.Error(), `--memory "64Q": a size is a number with an optional unit k, m, g or t (powers of 1024), e.g. 512m`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// noErr stops the test on err.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1", "512k", "64MiB", "1.5g", "0", "-1", "9223372036854775807", "9223372036854775808", "1.99999999999999999999t", "", "64Q", "1.", "kb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), strconv.Quote(s)+": ") {
				t.Fatalf("error %q does not start with the quoted value", err)
			}
			return
		}
		if n <= 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
		// A plain number means bytes, and reads back as itself.
		if digits(s) && strconv.FormatInt(n, 10) != strings.TrimLeft(s, "0") {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0-3,5", "1", "0,1,2", "3-1", "8191", "0-8191", "", ",", "1-2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseCPUList(s)
		if err != nil {
			return
		}
		// The kernel's form is a fixed point.
		again, err := ParseCPUList(list)
		if err != nil || again != list {
			t.Fatalf("ParseCPUList(%q) = %q, which reads back as %q, %v", s, list, again, err)
		}
	})
}
