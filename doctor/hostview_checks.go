package doctor

import (
	"fmt"
	"strings"
)

// hostView: for a caller other than root, sbx serves the host's files to
// the sandbox over FUSE so that host root's files are root's inside and
// writes work at every depth. Without /dev/fuse, or a kernel that mounts
// FUSE in a user namespace, runs still work, but writes below root-owned
// host directories fail.
func (c *checker) hostView() Check {
	ck := Check{Name: "fuse-host-view", Status: OK}
	if c.h.UID == 0 {
		ck.Detail = "not needed: for root the kernel overlay shows every owner as on the host"
		return ck
	}
	const lacks = "; without it, host root's files show as nobody inside and writes below root-owned directories (/usr/local, /etc/..., /var/lib/...) fail"
	dev := join(c.h.Dev, "fuse")
	found, missing := c.deviceFindings(dev)
	if len(missing) > 0 {
		ck.Status = Warn
		ck.Detail = strings.Join(missing, ", ") + lacks
		ck.Fix = strings.Join(c.deviceFix(dev, "fuse"), "\n")
		return ck
	}
	if ran, err := c.probe("userns"); ran && err != nil {
		ck.Status = Warn
		ck.Detail = "not probed: no user namespace (see userns)"
		return ck
	}
	ran, err := c.probe("fuse")
	switch {
	case ran && err != nil:
		ck.Status = Warn
		ck.Detail = "FUSE mount in a user namespace failed: " + oneLine(err.Error()) + lacks
		ck.Fix = "a kernel that allows FUSE in user namespaces (Linux 4.18+, not turned off by the distribution)"
	default:
		ck.Detail = fmt.Sprintf("%s; host root's files are root's inside the sandbox, and writes work at every depth", strings.Join(found, ", "))
		if !ran {
			ck.Detail += " (not probed)"
		}
	}
	return ck
}
