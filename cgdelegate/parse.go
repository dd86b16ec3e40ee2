package cgdelegate

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// ValueError is the error of every flag parser. Its text is the value,
// quoted, then what is wrong or expected; the caller puts the flag's name in
// front ("--memory " + err.Error()), which is why it does not say it.
type ValueError struct {
	Value string // the value as given
	Want  string // what is expected, or why the value cannot be used
}

func (e *ValueError) Error() string { return strconv.Quote(e.Value) + ": " + e.Want }

const sizeWant = "a size is a number with an optional unit k, m, g or t (powers of 1024), e.g. 512m"

// sizeUnits are the suffixes ParseSize takes, lower-cased. Every one is a
// power of 1024, "MB" included, as docker and podman read them: a memory
// limit in powers of 1000 is never what was meant.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// ParseSize reads a size in bytes: "1048576", "512k", "64M", "1g", "2T",
// "64MiB", "64MB", "1.5g". A fraction needs a unit and is rounded down to
// a whole byte. Zero is refused, since no limit is zero bytes; so are
// negative sizes and sizes beyond an int64.
func ParseSize(s string) (int64, error) {
	bad := func(want string) (int64, error) { return 0, &ValueError{Value: s, Want: want} }
	num := strings.TrimRight(s, "bBgGiIkKmMtT")
	unit, ok := sizeUnits[strings.ToLower(s[len(num):])]
	if !ok || num == "" {
		if strings.HasPrefix(s, "-") {
			return bad("a size cannot be negative")
		}
		return bad(sizeWant)
	}
	whole, frac, dotted := strings.Cut(num, ".")
	if !digits(whole) || dotted && !digits(frac) {
		if strings.HasPrefix(s, "-") {
			return bad("a size cannot be negative")
		}
		return bad(sizeWant)
	}
	if dotted && unit == 1 {
		return bad("a size in bytes is a whole number; a fraction needs a unit, e.g. 1.5g")
	}
	// Exact arithmetic: (whole.frac digits) * unit / 10^len(frac), so that
	// neither a long number nor a fraction rounds through a float.
	n, _ := new(big.Int).SetString(whole+frac, 10)
	n.Mul(n, big.NewInt(unit))
	n.Quo(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
	if !n.IsInt64() {
		return bad("a size is at most 8 exabytes (2^63-1 bytes)")
	}
	if n.Sign() == 0 {
		return bad("a size must be more than zero")
	}
	return n.Int64(), nil
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// MinCPUs and MaxCPUs bound --cpus. The kernel takes no quota under 1 ms
// per period (1% of cpuPeriod); 1024 CPUs is beyond any host sbx runs on
// and keeps a typo like 10000 from passing as "unlimited".
const (
	MinCPUs = 0.01
	MaxCPUs = 1024
)

// cpuPeriod is the cpu.max period in microseconds, the kernel's default.
const cpuPeriod = 100000

// ParseCPUs reads a number of CPUs: "0.25", "2", "1.5". Only plain decimal
// numbers, no exponent, no "inf".
func ParseCPUs(s string) (float64, error) {
	want := "a CPU count is a decimal number from 0.01 to 1024, e.g. 0.5 or 2"
	whole, frac, dotted := strings.Cut(s, ".")
	if !(digits(whole) || whole == "" && dotted) || dotted && frac != "" && !digits(frac) || s == "." {
		return 0, &ValueError{Value: s, Want: want}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < MinCPUs || v > MaxCPUs {
		return 0, &ValueError{Value: s, Want: want}
	}
	return v, nil
}

// CPUMax is the cpu.max line for cpus CPUs: quota and period in
// microseconds, "25000 100000" for 0.25. The quota is at least 1000, the
// kernel's minimum.
func CPUMax(cpus float64) string {
	quota := int64(math.Round(cpus * cpuPeriod))
	quota = max(quota, 1000)
	return strconv.FormatInt(quota, 10) + " " + strconv.Itoa(cpuPeriod)
}

// MaxCPU is the highest CPU number ParseCPUList takes: distributions build
// their kernels with NR_CPUS=8192, and the kernel refuses CPUs it lacks.
const MaxCPU = 8191

// ParseCPUList reads a CPU list, "0-3,5", and returns it the way the kernel
// prints cpuset.cpus: in order, runs merged ("0,1,2" is "0-2"), so that it
// can be compared with cpuset.cpus.effective.
func ParseCPUList(s string) (string, error) {
	set, err := parseCPUSet(s)
	if err != nil {
		return "", err
	}
	return formatCPUSet(set), nil
}

// cpuSet holds one bit per CPU up to MaxCPU.
type cpuSet [(MaxCPU + 1) / 64]uint64

func (c *cpuSet) has(n int) bool { return c[n/64]&(1<<(n%64)) != 0 }

// parseCPUSet reads a list of CPU numbers and ranges, "0-3,5". Ranges go
// upwards; the stride form of the kernel ("0-7:2/4") is not taken.
func parseCPUSet(s string) (*cpuSet, error) {
	bad := func(want string) (*cpuSet, error) { return nil, &ValueError{Value: s, Want: want} }
	want := "a CPU list is CPU numbers and ranges separated by commas, e.g. 0-3,5"
	if s == "" {
		return bad(want)
	}
	var set cpuSet
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, ranged := strings.Cut(part, "-")
		if !ranged {
			hi = lo
		}
		if !digits(lo) || !digits(hi) {
			return bad(want)
		}
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		if errA != nil || errB != nil || a > MaxCPU || b > MaxCPU {
			return bad("a CPU number is at most " + strconv.Itoa(MaxCPU))
		}
		if a > b {
			return bad("the range " + part + " goes downwards; write it " + hi + "-" + lo)
		}
		for n := a; n <= b; n++ {
			set[n/64] |= 1 << (n % 64)
		}
	}
	return &set, nil
}

// formatCPUSet writes set as the kernel does (bitmap_print_list): "a" for
// a lone CPU, "a-b" for a run of two or more, comma-separated.
func formatCPUSet(set *cpuSet) string {
	var parts []string
	for n := 0; n <= MaxCPU; n++ {
		if !set.has(n) {
			continue
		}
		end := n
		for end < MaxCPU && set.has(end+1) {
			end++
		}
		if end == n {
			parts = append(parts, strconv.Itoa(n))
		} else {
			parts = append(parts, strconv.Itoa(n)+"-"+strconv.Itoa(end))
		}
		n = end
	}
	return strings.Join(parts, ",")
}

// MaxPids bounds --pids: the kernel's PID_MAX_LIMIT, 4194304; there cannot
// be more processes than that anyway.
const MaxPids = 1 << 22

// ParsePids reads --pids, a number of processes (threads count too) from 1
// to MaxPids.
func ParsePids(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || !digits(s) || n < 1 || n > MaxPids {
		return 0, &ValueError{Value: s, Want: "a process count is a whole number from 1 to 4194304, e.g. 256"}
	}
	return n, nil
}

// ParseMemorySwap turns --memory (in bytes, 0 when not given) and
// --memory-swap (as typed, "" when not given) into the value to write to
// memory.swap.max.
//
// --memory-swap is the total of memory and swap, as docker and podman
// define it: memory.swap.max is swap - memory, so --memory-swap equal to
// --memory means no swap; "-1" means unlimited swap ("max"). Without
// --memory-swap, swap is off ("0"): docker would allow as much swap as
// memory, but a limit that swaps instead of failing makes runs slow and
// their out-of-memory exits unpredictable. With neither flag it returns ""
// (leave memory.swap.max alone). Errors are *ValueError on the
// --memory-swap value.
func ParseMemorySwap(memory int64, swap string) (string, error) {
	if swap == "" {
		if memory == 0 {
			return "", nil
		}
		return "0", nil
	}
	if memory <= 0 {
		return "", &ValueError{Value: swap, Want: "needs --memory: --memory-swap is the total of memory and swap"}
	}
	if swap == "-1" {
		return "max", nil
	}
	total, err := ParseSize(swap)
	if err != nil {
		if strings.HasPrefix(swap, "-") {
			return "", &ValueError{Value: swap, Want: "the only negative value is -1, for unlimited swap"}
		}
		return "", err
	}
	if total < memory {
		return "", &ValueError{Value: swap, Want: "--memory-swap is the total of memory and swap, so at least --memory (" +
			strconv.FormatInt(memory, 10) + " bytes); -1 for unlimited swap"}
	}
	return strconv.FormatInt(total-memory, 10), nil
}

// IOLimit is one --io-read-bps or --io-write-bps value.
type IOLimit struct {
	Dev          string // the device as given: a path or "MAJ:MIN"
	Major, Minor uint32
	BytesPerSec  int64
}

const ioWant = "an I/O limit is DEVICE:RATE, the device a block device path or MAJOR:MINOR, " +
	"the rate a size per second with an optional unit k, m, g or t, e.g. /dev/sda:10m or 8:0:1m/s"

// ParseIOLimit reads "DEV:RATE": DEV is a block device path ("/dev/sda",
// also a symbolic link to one, such as /dev/disk/by-id/...) or "MAJ:MIN";
// RATE is a size, with or without "/s": "10m", "1M/s", "512k". It splits
// on the last colon, so "8:0:10m" is device 8:0.
//
// io.max throttles whole disks only (the kernel answers ENODEV for a
// partition). A partition is refused, naming its disk, rather than
// silently mapped to the disk: that would throttle the sandbox's I/O to
// every partition of the disk, which is not what was asked.
func ParseIOLimit(s string) (IOLimit, error) {
	bad := func(want string) (IOLimit, error) { return IOLimit{}, &ValueError{Value: s, Want: want} }
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return bad(ioWant)
	}
	dev, rate := s[:i], s[i+1:]
	if len(rate) > 2 && strings.EqualFold(rate[len(rate)-2:], "/s") {
		rate = rate[:len(rate)-2]
	}
	l := IOLimit{Dev: dev}
	var err error
	if strings.HasPrefix(dev, "/") {
		l.Major, l.Minor, err = blockDevice(dev)
	} else {
		l.Major, l.Minor, err = parseDevNumber(dev)
	}
	if err == nil {
		err = wholeDisk(l.Major, l.Minor, dev)
	}
	if err != nil {
		return bad(err.Error())
	}
	if l.BytesPerSec, err = ParseSize(rate); err != nil {
		return bad("the rate is bytes per second; " + err.(*ValueError).Want)
	}
	return l, nil
}

// parseDevNumber reads "MAJ:MIN" within the kernel's 12 and 20 bits.
func parseDevNumber(dev string) (uint32, uint32, error) {
	maj, min, ok := strings.Cut(dev, ":")
	if !ok || !digits(maj) || !digits(min) {
		return 0, 0, errors.New(ioWant)
	}
	a, errA := strconv.ParseUint(maj, 10, 12)
	b, errB := strconv.ParseUint(min, 10, 20)
	if errA != nil || errB != nil {
		return 0, 0, errors.New("the device number " + dev + " is out of range (major below 4096, minor below 1048576)")
	}
	return uint32(a), uint32(b), nil
}
