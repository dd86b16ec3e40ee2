package cgdelegate

import (
	"errors"
	"fmt"
)

// The fixes for a host that cannot give a run its limits, as one line
// each; sbx run and sbx doctor say the same.
const (
	// FixScope runs sbx in a scope of its own that systemd delegates.
	FixScope = "systemd-run --user --scope -p Delegate=yes sbx run ..."
	// FixDropIn has systemd delegate every controller to user sessions
	// (by default it passes memory and pids, not cpu, cpuset or io).
	FixDropIn = `sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload (then log in again)`
	// FixLinger starts the user's systemd manager, which holds the
	// delegated subtree, without a login session (CI runners, ssh -T).
	FixLinger = "sudo loginctl enable-linger $USER"
	// FixUnified boots into the unified hierarchy.
	FixUnified = "boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line (cgroup v2 only)"
)

// Explain is why err keeps limits from being enforced, and the fix.
func Explain(h Hierarchy, err error) (why, fix string) {
	var nd *NotDelegated
	var mc *MissingControllers
	switch {
	case errors.Is(err, ErrNoV2):
		return err.Error(), FixUnified
	case h.Hybrid && (errors.As(err, &mc) || errors.As(err, &nd)):
		return fmt.Sprintf("this host's cgroups are a v1/v2 hybrid: the controllers are on v1, and cgroup v2 at %s has none", h.Mount), FixUnified
	case errors.As(err, &mc):
		return err.Error(), FixDropIn
	case errors.As(err, &nd):
		return err.Error(), FixScope + "; or, for a user without a login session, " + FixLinger
	}
	return err.Error(), ""
}
