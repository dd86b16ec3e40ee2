package run

import (
	"errors"
	"fmt"
	"os"

	"github.com/sbx-sandbox/sbx/hostfs"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/userns"
)

// rootFS is the command's root file system: the run's state directory
// (or --keep DIR), the workdir's git protection, the mount plan, sbx's
// FUSE view of the host under it, and, after the run, git's checked merge,
// the changes, --keep and the removal of the state.
type rootFS struct {
	keep  *rootfs.KeepDir
	state *rootfs.State
	git   *gitGuard
	plan  *rootfs.Plan
	view  *hostfs.Server
}

func (*rootFS) Name() string { return "rootfs" }

// Start opens --keep DIR before the command starts: the command may
// replace the name meanwhile.
func (f *rootFS) Start(r *Run) error {
	if r.Spec.Keep == "" {
		return nil
	}
	var err error
	f.keep, err = openKeep(r.Spec)
	return err
}

// Prepare makes the state directory and the plan while the child starts.
func (f *rootFS) Prepare(r *Run, setup *userns.Setup) error {
	s := r.Spec
	var err error
	if f.keep != nil {
		f.state, err = rootfs.NewKeepState(f.keep)
	} else {
		f.state, err = rootfs.NewState(r.Base, "")
	}
	if err != nil {
		return err
	}
	if f.git, err = newGitGuard(s, r.Home); err != nil {
		return err
	}
	if f.plan, err = makePlan(s, f.state.Dir, r.Base, r.Home, f.git); err != nil {
		return err
	}
	setup.Plan, setup.NewRoot = f.plan, f.state.Dir.Root()
	return nil
}

func (*rootFS) Device() userns.MsgType { return userns.MsgHostFS }

// Serve serves the FUSE view of the host on the /dev/fuse the child
// mounted (Plan.HostFS).
func (f *rootFS) Serve(r *Run, dev *os.File) error {
	// The child mounts the view only after it has the plan.
	if f.plan == nil || f.plan.HostFS == nil {
		dev.Close()
		return errors.New("serve the FUSE view of the host: no FUSE view was planned")
	}
	var err error
	if f.view, err = hostfs.Serve(dev, hostFSConfig(f.plan.HostFS, r.Spec, r.Maps)); err != nil {
		return fmt.Errorf("serve the FUSE view of the host: %w", err)
	}
	return nil
}

func (f *rootFS) Stop(r *Run) {
	if !r.ran() {
		if f.keep != nil {
			f.keep.Close()
		}
		return
	}
	r.Record.View = viewName(r.Spec, f.plan)
	f.afterRun(r)
	if f.git != nil && f.git.unsafe {
		// Something planted for the host's git is still in place: sbx's
		// own status says so, not the command's.
		fmt.Fprintln(os.Stderr, "sbx: git: something the command planted for your git could not be taken away (see above)")
		r.Result.Code, r.Record.ExitCode = userns.ExitSetup, userns.ExitSetup
	}
	if f.view != nil {
		// The view serves until PID 1 is gone, and its mounts with it.
		r.Sandbox.Reap()
		f.view.Close()
	}
}
