package cgdelegate

import (
	"fmt"
	"strconv"
)

// SetPids writes pids.max: at most max processes and threads in the
// cgroup; fork and clone fail with EAGAIN beyond.
func SetPids(dir string, max int64) error {
	if max < 1 || max > MaxPids {
		return fmt.Errorf("pids limit %d: must be from 1 to %d", max, MaxPids)
	}
	return writeFile(dir, "pids.max", strconv.FormatInt(max, 10))
}

// PidsStats is the pids accounting of a cgroup; nil is not measured
// (pids.peak came in Linux 6.1).
type PidsStats struct {
	Current *int64 // pids.current: processes and threads now
	Peak    *int64 // pids.peak: the most there have been
}

// ReadPids reads pids.current and pids.peak.
func ReadPids(dir string) PidsStats {
	return PidsStats{Current: optional(dir, "pids.current"), Peak: optional(dir, "pids.peak")}
}
