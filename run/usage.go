package run

import "github.com/sbx-sandbox/sbx/report"

// usage is what the processes inside used: their peak memory, which PID 1
// measured, and the CPU time of every one of them, known once PID 1 has
// been reaped.
type usage struct{}

func (*usage) Name() string { return "usage" }

func (*usage) Start(*Run) error { return nil }

// Stop comes after the root file system's: the state is removed while the
// kernel tears the namespaces down, and only then is PID 1 waited for.
func (*usage) Stop(r *Run) {
	if !r.ran() {
		return
	}
	if kib := r.Result.MaxRSSKiB; kib >= 0 {
		r.Record.MemoryPeakBytes = report.Int64(kib * 1024)
	}
	if ru := r.Sandbox.Reap(); ru != nil {
		r.Record.CPUUserMS = report.Int64(ru.Utime.Sec*1000 + int64(ru.Utime.Usec)/1000)
		r.Record.CPUSystemMS = report.Int64(ru.Stime.Sec*1000 + int64(ru.Stime.Usec)/1000)
	}
}
