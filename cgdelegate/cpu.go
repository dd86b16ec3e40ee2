package cgdelegate

import "fmt"

// SetCPUs writes cpu.max for cpus CPUs (see CPUMax).
func SetCPUs(dir string, cpus float64) error {
	if !(cpus >= MinCPUs && cpus <= MaxCPUs) {
		return fmt.Errorf("cpu limit %g: must be from %g to %d", cpus, MinCPUs, MaxCPUs)
	}
	return writeFile(dir, "cpu.max", CPUMax(cpus))
}

// CPUStats is cpu.stat. A nil field is not in the file: the usage fields
// are there on every cgroup, the throttling ones only where the cpu
// controller is enabled.
type CPUStats struct {
	UsageUSec     *int64 // usage_usec: CPU time, user and system, µs
	UserUSec      *int64 // user_usec
	SystemUSec    *int64 // system_usec
	NrPeriods     *int64 // nr_periods: cpu.max periods that have elapsed
	NrThrottled   *int64 // nr_throttled: periods in which the quota ran out
	ThrottledUSec *int64 // throttled_usec: time spent throttled, µs
}

// ReadCPU reads dir's cpu.stat; every field is nil if it is missing.
func ReadCPU(dir string) CPUStats {
	m := readFlat(dir, "cpu.stat")
	return CPUStats{
		UsageUSec:     field(m, "usage_usec"),
		UserUSec:      field(m, "user_usec"),
		SystemUSec:    field(m, "system_usec"),
		NrPeriods:     field(m, "nr_periods"),
		NrThrottled:   field(m, "nr_throttled"),
		ThrottledUSec: field(m, "throttled_usec"),
	}
}
