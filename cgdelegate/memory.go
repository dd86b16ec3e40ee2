package cgdelegate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// ErrNoSwapAccounting is wrapped by SetMemory's error when memory.swap.max
// is missing, the kernel having no swap accounting (built without it, or
// booted with swapaccount=0), and the swap limit asked for therefore
// cannot be enforced. The caller reports it as a limit that cannot be
// enforced (strict) or a warning (best-effort).
var ErrNoSwapAccounting = errors.New("the kernel has no swap accounting (memory.swap.max is missing)")

// procMeminfo says how much swap the host has; a variable for tests.
var procMeminfo = "/proc/meminfo"

// SetMemory writes memory.max (max bytes) and then memory.swap.max
// (swapMax as ParseMemorySwap returns it; "" leaves it alone).
//
// Without swap accounting, memory.max caps only what is resident: pages
// swapped out are not charged, so the sandbox could use swap beyond its
// limit. A missing memory.swap.max is therefore fine only when that cannot
// happen: swapMax is "max" (unlimited swap, which is what such a kernel
// gives), or it is "0" and the host has no swap (SwapTotal 0). Otherwise the
// error wraps ErrNoSwapAccounting.
func SetMemory(dir string, max int64, swapMax string) error {
	if max <= 0 {
		// 0 would have the kernel kill the first allocation.
		return fmt.Errorf("memory limit %d: must be more than zero", max)
	}
	if err := writeFile(dir, "memory.max", strconv.FormatInt(max, 10)); err != nil {
		return err
	}
	if swapMax == "" {
		return nil
	}
	err := writeFile(dir, "memory.swap.max", swapMax)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	switch {
	case swapMax == "max":
		return nil
	case swapMax == "0" && !swapActive():
		return nil
	case swapMax == "0":
		return fmt.Errorf("%w and the host has swap: the sandbox could swap beyond --memory", ErrNoSwapAccounting)
	}
	return fmt.Errorf("%w: --memory-swap cannot be enforced", ErrNoSwapAccounting)
}

// swapActive reports whether the host has swap: SwapTotal in
// /proc/meminfo, which is there (0) also on kernels without swap support,
// unlike /proc/swaps. When it cannot be read, swap is taken to be there.
func swapActive() bool {
	b, err := os.ReadFile(procMeminfo)
	if err != nil {
		return true
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "SwapTotal:"); ok {
			f := strings.Fields(rest)
			return len(f) == 0 || f[0] != "0"
		}
	}
	return true
}

// MemoryStats is the memory accounting of a cgroup. A nil field was not
// measured: the file or the key is missing on this kernel (memory.peak
// came in Linux 5.19).
type MemoryStats struct {
	Current  *int64 // memory.current, bytes
	Peak     *int64 // memory.peak, bytes
	Max      *int64 // memory.max, bytes; nil for "max" (no limit)
	OOM      *int64 // memory.events oom: times the limit was hit and allocation was about to fail
	OOMKills *int64 // memory.events oom_kill: processes killed by the OOM killer
}

// ReadMemory reads the memory accounting of dir.
func ReadMemory(dir string) MemoryStats {
	events := readFlat(dir, "memory.events")
	return MemoryStats{
		Current:  optional(dir, "memory.current"),
		Peak:     optional(dir, "memory.peak"),
		Max:      optional(dir, "memory.max"),
		OOM:      field(events, "oom"),
		OOMKills: field(events, "oom_kill"),
	}
}
