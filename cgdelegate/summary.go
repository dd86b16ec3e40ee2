package cgdelegate

import "strconv"

// Summary is the run record's "limits": what the run asked for, what
// enforced each limit, and what the run's cgroup measured. Null fields
// were not measured.
type Summary struct {
	Mode string `json:"mode"` // strict or best-effort
	// Cgroup is the run's cgroup in the hierarchy; null when it had none.
	Cgroup    *string   `json:"cgroup"`
	Requested Requested `json:"requested"`
	// Enforced maps each asked flag to what held it: the cgroup file
	// ("memory.max") or the resource limit ("RLIMIT_NPROC").
	Enforced map[string]string `json:"enforced"`
	// NotEnforced maps each asked flag that nothing held to why
	// (best-effort only: strict refuses to run instead).
	NotEnforced map[string]string `json:"not_enforced"`
	// Usage is what the cgroup measured; null without a cgroup.
	Usage *Usage `json:"usage"`
}

// Requested are the asked limits, parsed.
type Requested struct {
	MemoryBytes *int64   `json:"memory_bytes,omitempty"`
	SwapMax     string   `json:"memory_swap_max,omitempty"` // memory.swap.max: "0", "max" or bytes
	CPUs        *float64 `json:"cpus,omitempty"`
	Cpuset      string   `json:"cpuset,omitempty"`
	Pids        *int64   `json:"pids,omitempty"`
	IORead      []IORate `json:"io_read_bps,omitempty"`
	IOWrite     []IORate `json:"io_write_bps,omitempty"`
}

// IORate is one device's rate limit.
type IORate struct {
	Device      string `json:"device"` // "MAJ:MIN"
	BytesPerSec int64  `json:"bytes_per_sec"`
}

// Usage is the cgroup's accounting at the end of the run, for every
// process that ever ran in it.
type Usage struct {
	MemoryPeakBytes *int64 `json:"memory_peak_bytes"`
	// OOMKills counts processes the kernel killed at the memory limit.
	OOMKills    *int64 `json:"oom_kills"`
	CPUUsageMS  *int64 `json:"cpu_usage_ms"`
	CPUUserMS   *int64 `json:"cpu_user_ms"`
	CPUSystemMS *int64 `json:"cpu_system_ms"`
	// CPUPeriods and CPUThrottledPeriods count cpu.max's periods, and
	// those in which the quota ran out; CPUThrottledMS the time spent
	// waiting for the next.
	CPUPeriods          *int64   `json:"cpu_periods"`
	CPUThrottledPeriods *int64   `json:"cpu_throttled_periods"`
	CPUThrottledMS      *int64   `json:"cpu_throttled_ms"`
	PidsPeak            *int64   `json:"pids_peak"`
	IO                  []IOUsed `json:"io"`
}

// IOUsed is one device's I/O.
type IOUsed struct {
	Device     string `json:"device"`
	ReadBytes  int64  `json:"read_bytes"`
	WriteBytes int64  `json:"write_bytes"`
	ReadIOs    int64  `json:"read_ios"`
	WriteIOs   int64  `json:"write_ios"`
}

// NewSummary is the summary of a run that asked for r in mode.
func NewSummary(mode string, r Request) *Summary {
	s := &Summary{Mode: mode, Enforced: map[string]string{}, NotEnforced: map[string]string{}}
	q := &s.Requested
	if r.Memory > 0 {
		q.MemoryBytes, q.SwapMax = &r.Memory, r.SwapMax
	}
	if r.CPUs > 0 {
		q.CPUs = &r.CPUs
	}
	q.Cpuset = r.Cpuset
	if r.Pids > 0 {
		q.Pids = &r.Pids
	}
	q.IORead, q.IOWrite = rates(r.IORead), rates(r.IOWrite)
	return s
}

func rates(ls []IOLimit) []IORate {
	var out []IORate
	for _, l := range ls {
		out = append(out, IORate{Device: devName(l.Major, l.Minor), BytesPerSec: l.BytesPerSec})
	}
	return out
}

// files name the cgroup file that holds each flag's limit.
var files = map[string]string{
	"--memory": "memory.max", "--memory-swap": "memory.swap.max", "--cpus": "cpu.max",
	"--cpuset": "cpuset.cpus", "--pids": "pids.max", "--io-read-bps": "io.max", "--io-write-bps": "io.max",
}

// File is the cgroup file that holds flag's limit.
func File(flag string) string { return files[flag] }

// Measure reads dir's accounting.
func Measure(dir string) *Usage {
	mem, cpu, pids := ReadMemory(dir), ReadCPU(dir), ReadPids(dir)
	u := &Usage{
		MemoryPeakBytes:     mem.Peak,
		OOMKills:            mem.OOMKills,
		CPUUsageMS:          ms(cpu.UsageUSec),
		CPUUserMS:           ms(cpu.UserUSec),
		CPUSystemMS:         ms(cpu.SystemUSec),
		CPUPeriods:          cpu.NrPeriods,
		CPUThrottledPeriods: cpu.NrThrottled,
		CPUThrottledMS:      ms(cpu.ThrottledUSec),
		PidsPeak:            pids.Peak,
		IO:                  []IOUsed{},
	}
	for _, s := range ReadIO(dir) {
		u.IO = append(u.IO, IOUsed{Device: devName(s.Major, s.Minor), ReadBytes: s.RBytes, WriteBytes: s.WBytes, ReadIOs: s.RIOs, WriteIOs: s.WIOs})
	}
	return u
}

func ms(us *int64) *int64 {
	if us == nil {
		return nil
	}
	v := *us / 1000
	return &v
}

// devName is a device number as cgroup files write it.
func devName(major, minor uint32) string {
	return strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10)
}

// HumanSize writes n bytes the way --memory takes them, in the largest
// power of 1024 that keeps one decimal: "64.0 MiB".
func HumanSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + " B"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}
