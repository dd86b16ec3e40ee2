package userns

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// A command allowed CAP_SYS_ADMIN or CAP_SYS_PTRACE (--cap-add) runs one
// user namespace below PID 1's, in a mount namespace copied from PID 1's
// once the root is built. The kernel locks every mount that a less
// privileged user namespace inherits (MNT_LOCKED): whatever capabilities
// the command holds in its own namespace, it cannot unmount the mounts that
// hide secrets, protect .git or the state directory, nor remount a
// read-only one read-write. A new UTS namespace comes with it so the
// command may still set its own hostname. Capabilities in the command's
// namespace give nothing over PID 1's: the network, PID and IPC
// namespaces, and PID 1 itself, belong to the outer one.
//
// With Docker's default set the command holds neither, cannot mount or
// unmount at all, and runs in PID 1's namespaces.
const nestedCloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS

// identityMap maps every id of an id map file (/proc/self/uid_map, read
// inside PID 1's namespace) to itself in the nested namespace: the command
// keeps the ids it would have had, and files keep their owners.
func identityMap(content string) ([]syscall.SysProcIDMap, error) {
	var out []syscall.SysProcIDMap
	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("id map line %q: want 3 fields", line)
		}
		inside, err1 := strconv.Atoi(f[0])
		count, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || inside < 0 || count <= 0 {
			return nil, fmt.Errorf("id map line %q: not an id range", line)
		}
		out = append(out, syscall.SysProcIDMap{ContainerID: inside, HostID: inside, Size: count})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty id map")
	}
	return out, nil
}

// idSpan is the lowest and highest id mapped in an id map file.
func idSpan(content string) (lo, hi int, ok bool) {
	m, err := identityMap(content)
	if err != nil {
		return 0, 0, false
	}
	lo, hi = m[0].ContainerID, m[0].ContainerID+m[0].Size-1
	for _, r := range m[1:] {
		lo = min(lo, r.ContainerID)
		hi = max(hi, r.ContainerID+r.Size-1)
	}
	return lo, hi, true
}

// nestFailed tells the errors of the nested clone from those of the exec:
// exec(2) returns none of these, clone(2) of a user namespace does when
// the host allows no more of them (ENOSPC, EUSERS) or none at that depth.
func nestFailed(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EUSERS) || errors.Is(err, syscall.EPERM)
}
