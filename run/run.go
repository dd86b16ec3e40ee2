// Package run assembles one `sbx run` from an ordered list of parts: each
// starts before the sandbox, may prepare while the child starts or serve a
// descriptor it hands back, and stops after the command, in reverse.
package run

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// Main is `sbx run` with the options the command line gave; it returns
// sbx's exit status.
func Main(o spec.Options) int {
	// Only 0, 1 and 2 may reach the command, whatever our caller left open
	// (Go does not close inherited descriptors on exec).
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)

	r, code := begin(o)
	if r == nil {
		return code
	}
	r.run([]Part{
		&ids{},
		// The record starts first, so it stops last: the report holds
		// what every other part said when it stopped.
		&record{},
		// Before usage, so it stops after it: the cgroup is measured and
		// removed once PID 1 has been reaped, and its peak memory replaces
		// PID 1's. Its cgroup namespace is settled before the root file
		// system's plan, which mounts the cgroup.
		&limits{},
		// Before the root file system, so it stops after it: PID 1 is
		// waited for (its CPU time) once the state is gone.
		&usage{},
		&rootFS{},
		&protections{},
		&network{},
	})
	if r.ran() {
		// Runs killed before they could clean up (kill -9) left their
		// state behind; it is removed here, after the command and its
		// report, not before it.
		removeStaleRuns(r.Base, r.Maps)
	}
	return r.Result.Code
}

// run starts the parts in order, runs the sandbox when all have started,
// and stops the started ones in reverse.
func (r *Run) run(parts []Part) {
	started := 0
	for _, p := range parts {
		if err := p.Start(r); err != nil {
			r.failed(err)
			break
		}
		started++
	}
	if started == len(parts) {
		r.sandbox(parts)
	}
	for i := started - 1; i >= 0; i-- {
		parts[i].Stop(r)
	}
}

// sandbox runs the command: the parts' Prepare methods, in order, while the
// child starts; their servers for the descriptors it hands back.
func (r *Run) sandbox(parts []Part) {
	sb := r.Sandbox
	sb.Maps = r.Maps
	sb.Prepare = func() (*userns.Setup, error) {
		setup := &userns.Setup{Spec: r.Spec}
		for _, p := range parts {
			if p, ok := p.(Preparer); ok {
				if err := p.Prepare(r, setup); err != nil {
					return nil, err
				}
			}
		}
		return setup, nil
	}
	sb.Serve = map[userns.MsgType]func(*os.File) error{}
	for _, p := range parts {
		if p, ok := p.(DeviceServer); ok {
			sb.Serve[p.Device()] = func(dev *os.File) error { return p.Serve(r, dev) }
		}
	}
	r.started = true
	res := sb.Run()
	r.Result = res
	if res.Err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", res.Err)
	}
	*r.Record = report.Record{
		EnvDropped: append([]string{}, r.Spec.EnvDropped...), // [] when none: known, not missing
		ExitCode:   res.Code,
		Cause:      res.Cause,
		Signal:     report.SignalName(res.Signal),
		DurationMS: res.Duration.Milliseconds(),
	}
	if res.Err != nil && res.Cause == "setup-error" {
		r.Record.Error = res.Err.Error()
	}
}

// failed ends a run whose part could not start: sbx's status and one line,
// and the record says so, without what the command would have shown.
func (r *Run) failed(err error) {
	fmt.Fprintln(os.Stderr, "sbx:", err)
	r.Result = userns.Result{Code: userns.ExitSetup, Cause: "setup-error", Err: err, MaxRSSKiB: -1}
	*r.Record = failureRecord(err)
}

func explainStart(err error) string {
	checks := doctor.UsernsChecks(doctor.DefaultHost())
	if doctor.Failed(checks) {
		return doctor.Explain(checks)
	}
	return fmt.Sprintf("cannot create the sandbox's namespaces: %v; run `sbx doctor` for what this host allows", err)
}
