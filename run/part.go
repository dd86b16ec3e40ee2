package run

import (
	"os"

	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// A Part is one concern of a run.
type Part interface {
	Name() string
	// Start runs before the sandbox starts, parts in order. An error stops
	// the run (exit 125, the record still written).
	Start(r *Run) error
	// Stop runs after the command has ended (or the run failed), parts in
	// reverse order, each only if its Start succeeded; it fills its fields
	// of r.Record, unless the command never ran (r.ran()).
	Stop(r *Run)
}

// Preparer is a Part with work that runs while the child is being cloned
// and exec'd (most of start-up): the state directory, the mount plan, the
// seccomp filter. Each fills its fields of setup; an error stops the run
// before the command starts.
type Preparer interface {
	Prepare(r *Run, setup *userns.Setup) error
}

// DeviceServer is a Part that serves a descriptor the child hands back (the
// FUSE view today; the network's TAP next). Serve takes dev; its error is
// sbx's message for the run as it is worded, so it names the part. The
// message type must be one of userns's devices (userns/devices.go), which
// also names a descriptor that comes unasked.
type DeviceServer interface {
	Device() userns.MsgType
	Serve(r *Run, dev *os.File) error
}

// Run is what the parts of one run share. Parts fill it in as they start;
// nothing in it is read by a part listed before the one that fills it,
// except in Stop.
type Run struct {
	Spec *spec.Spec
	// Home is the caller's $HOME; Base the directory that holds the state
	// of the caller's runs (rootfs.StateBase).
	Home, Base string
	// Maps are the run's id maps, chosen by the first part.
	Maps userns.Maps
	// Sandbox is the run as the parent supervises it. It exists before
	// the parts start, so that one can set how the child starts (the
	// cgroup it starts in); the maps, Prepare and Serve are set from the
	// parts when all have started.
	Sandbox *userns.Sandbox
	// Result is how the run ended: the sandbox's, or a part's failure to
	// start.
	Result userns.Result
	// Record is what --report writes, filled by the parts as they stop.
	Record *report.Record

	started bool // the sandbox was started
}

// ran says whether the sandbox was started: a Stop reports and cleans up
// only then.
func (r *Run) ran() bool { return r.started }
