package run

import (
	"fmt"
	"os"

	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/userns"
)

// afterRun does the host-side work once every process inside is gone:
// git's checked merge, the changes, --keep and removing the state.
// Everything it touches the command could write is reached through
// descriptors taken before the command started.
func (f *rootFS) afterRun(r *Run) {
	s, rec, plan, state := r.Spec, r.Record, f.plan, f.state
	if plan != nil && f.git != nil {
		// Nothing inside writes in the git overlays any more: PID 1
		// killed and reaped every process before it reported, or the
		// kernel did when PID 1 died.
		rec.GitRefused = f.git.merge(plan.Git, s.WorkdirSource, plan.Driver == rootfs.DriverFuse)
	} else {
		f.git.close()
	}
	// While the kernel tears the namespaces down, name the changes and
	// remove the state.
	if plan != nil && (s.Diff || s.Keep != "") {
		rec.Changes = state.Changes(plan.Layers)
		if rootfs.Unreadable(rec.Changes) && !r.Maps.UID.Single() {
			// Directories only a subordinate id may enter: walk them as
			// root in a user namespace with the run's maps.
			if all, err := userns.ChangesInNamespace(plan.Layers, state.KeepFD(), r.Maps); err == nil {
				rec.Changes = all
			} else {
				fmt.Fprintln(os.Stderr, "sbx: --diff:", err)
			}
		}
		if rec.Changes == nil {
			rec.Changes = []rootfs.Change{}
		}
	}
	if s.Diff {
		printChanges(rec.Changes)
	}
	if state == nil {
		return
	}
	kept := false
	if s.Keep != "" && plan != nil && r.Result.Cause != "setup-error" {
		r.Sandbox.Reap() // the overlays must be gone before their layers move
		state.Lock.Close()
		if err := rootfs.FinishKeep(state, plan.Layers); err != nil {
			fmt.Fprintln(os.Stderr, "sbx: --keep:", err)
		} else {
			kept = true
		}
	}
	if !kept {
		removeOwnState(state, r.Maps)
	}
	state.Close()
}

func printChanges(changes []rootfs.Change) {
	for _, c := range changes {
		fmt.Fprintf(os.Stderr, "%-9s %s\n", c.Kind, rootfs.QuotePath(c.Path))
	}
}

// removeStaleRuns removes the state that runs killed before they could
// clean up left in base.
func removeStaleRuns(base string, maps userns.Maps) {
	for _, dir := range rootfs.StaleRuns(base) {
		removeState(dir, maps)
	}
}

// removeState removes a run's state directory, its lock last; what the
// caller cannot remove (files owned by subordinate ids) is removed inside a
// user namespace with the same maps.
func removeState(dir string, maps userns.Maps) {
	if rootfs.RemoveState(dir) == nil {
		return
	}
	if err := userns.RemoveInNamespace(dir, maps); err != nil {
		fmt.Fprintf(os.Stderr, "sbx: warning: could not remove %s: %v\n", dir, err)
	}
}

// removeOwnState removes this run's state. A --keep DIR that could not be
// kept is emptied through its descriptor only: its name may have been
// replaced meanwhile, so it is not retried by path.
func removeOwnState(st *rootfs.State, maps userns.Maps) {
	err := st.Remove()
	if err == nil {
		return
	}
	if st.Keep != nil {
		fmt.Fprintf(os.Stderr, "sbx: warning: could not empty --keep %s: %v\n", st.Dir.Path(), err)
		return
	}
	if err := userns.RemoveInNamespace(st.Dir.Path(), maps); err != nil {
		fmt.Fprintf(os.Stderr, "sbx: warning: could not remove %s: %v\n", st.Dir.Path(), err)
	}
}
