package userns

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/caps"
	"github.com/sbx-sandbox/sbx/seccomp"
)

// The command's privileges. It runs as root of PID 1's user namespace
// with Docker's capability set: the bounding set is cut down on the thread
// that starts it, so an exec by uid 0 gains exactly that set, and no more
// through a setuid or file-capability binary (no_new_privs).
//
// A command allowed CAP_SYS_ADMIN or CAP_SYS_PTRACE instead starts one user
// namespace below (see nested.go): with either it could undo the mounts that
// hide and protect, directly or through PID 1, in a namespace where they are
// not locked. The kernel gives a new user namespace a full bounding set, so
// there the set is cut down by sbx itself, re-executed between the clone and
// the command (execHelper).

// needsNestedNamespace reports whether the command must start below PID
// 1's user namespace.
func needsNestedNamespace(set caps.Set) bool {
	return set.Has(caps.SysAdmin) || set.Has(caps.SysPtrace)
}

// needsHelper reports whether the command starts through the helper: in a
// nested namespace, and under a profile file, which may deny what PID 1
// itself must do after the fork (wait4, kill, sendmsg to the parent) if
// PID 1 installed it on its own thread.
func needsHelper(set caps.Set, filter *seccomp.Program) bool {
	return needsNestedNamespace(set) || (filter != nil && filter.Mode == seccomp.ModeFile)
}

// limitBoundingSet drops from this thread's bounding set every capability
// not in keep, up to lastCap. One already out is left alone: dropping needs
// CAP_SETPCAP, which the set may no longer hold.
func limitBoundingSet(keep caps.Set, lastCap int) error {
	for c := 0; c <= lastCap; c++ {
		if keep.Has(c) {
			continue
		}
		if in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err == nil && in == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_CAPBSET_DROP, %d): %w", c, err)
		}
	}
	return nil
}

// clearInheritable empties this thread's inheritable capability set (PID
// 1's main thread, which starts the command).
func clearInheritable() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}
