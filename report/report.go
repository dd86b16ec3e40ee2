// Package report writes the JSON record of a run (--report).
package report

import (
	"encoding/json"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
)

// Record is the run record. Fields the host could not measure are null,
// never invented; later versions fill limits, pids and net.
type Record struct {
	ExitCode        int             `json:"exit_code"`
	Cause           string          `json:"cause"` // exit, signal, timeout, oom, setup-error
	Signal          *string         `json:"signal"`
	DurationMS      int64           `json:"duration_ms"`
	CPUUserMS       *int64          `json:"cpu_user_ms"`
	CPUSystemMS     *int64          `json:"cpu_system_ms"`
	MemoryPeakBytes *int64          `json:"memory_peak_bytes"`
	PidsPeak        *int64          `json:"pids_peak"`
	Limits          any             `json:"limits"`
	Net             any             `json:"net"`
	Changes         []rootfs.Change `json:"changes"`
	Error           string          `json:"error,omitempty"`
}

// SignalName is the name of signal n ("SIGTERM"), or nil for 0.
func SignalName(n int) *string {
	if n == 0 {
		return nil
	}
	name := unix.SignalName(unix.Signal(n))
	if name == "" {
		return nil
	}
	return &name
}

// Int64 is a helper for optional numbers.
func Int64(v int64) *int64 { return &v }

// Write stores the record at path.
func Write(path string, r Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
