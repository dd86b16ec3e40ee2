package doctor

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// overlayUserns: the kernel's overlayfs is the fast copy-on-write root;
// unprivileged mounts of it need 5.11 and the userxattr option.
func (c *checker) overlayUserns() Check {
	ck := Check{Name: "overlay-userns", Status: OK}
	k, kok := parseKernel(c.h.KernelRelease)
	var why, fix string
	switch {
	case !kok:
		why = fmt.Sprintf("unknown kernel release %q", c.h.KernelRelease)
	case !k.atLeast(5, 11):
		why = fmt.Sprintf("kernel %s < 5.11: no overlayfs in a user namespace", k)
	default:
		// The probe decides when it can run: overlay is often a module that
		// the first mount loads, so /proc/filesystems may not list it yet.
		listed := c.hasFilesystem("overlay")
		if ran, err := c.probe("userns"); ran && err != nil {
			// Without a user namespace the overlay probe would only repeat
			// the userns failure.
			why = "not probed: no user namespace (see userns)"
			break
		}
		ran, err := c.probe("overlay")
		switch {
		case ran && err != nil:
			why = "overlay mount in a user namespace failed: " + oneLine(err.Error())
			if !listed {
				fix = "sudo modprobe overlay"
			}
		case !ran && !listed:
			why = "overlay is not in /proc/filesystems"
			fix = "sudo modprobe overlay"
		default:
			ck.Detail = fmt.Sprintf("kernel %s mounts overlayfs in a user namespace (userxattr)", k)
			if !ran {
				ck.Detail += ", not probed"
			}
			return ck
		}
	}
	fuseOK, fuseFix := c.fuseState()
	if fuseOK {
		ck.Status = Warn
		ck.Detail = why + "; sbx falls back to fuse-overlayfs"
		ck.Fix = fix
		return ck
	}
	ck.Status = Fail
	ck.Detail = why + "; fuse-overlayfs, the fallback, is unusable too"
	if fix != "" {
		fuseFix = fix + "\nor: " + fuseFix
	}
	ck.Fix = fuseFix + "\nor: sbx run --rootfs ro ...   (a read-only host view needs neither)"
	return ck
}

// fuseState reports whether fuse-overlayfs can run, and else the fix.
func (c *checker) fuseState() (ok bool, fix string) {
	_, missing, fixes := c.fuseFindings()
	return len(missing) == 0, strings.Join(fixes, "\n")
}

// fuseFindings: what was found, what is missing, and the commands to fix it.
func (c *checker) fuseFindings() (found, missing, fixes []string) {
	if path, err := c.h.LookPath("fuse-overlayfs"); err == nil {
		found = append(found, "fuse-overlayfs at "+path)
	} else {
		missing = append(missing, "fuse-overlayfs not in PATH")
		fixes = append(fixes, c.install("fuse-overlayfs"))
	}
	dev := join(c.h.Dev, "fuse")
	f, m := c.deviceFindings(dev)
	found, missing, fixes = append(found, f...), append(missing, m...), append(fixes, c.deviceFix(dev, "fuse")...)
	return found, missing, fixes
}

func (c *checker) fuseOverlayfs() Check {
	ck := Check{Name: "fuse-overlayfs", Status: OK}
	found, missing, fixes := c.fuseFindings()
	if len(missing) == 0 {
		ck.Detail = strings.Join(found, ", ")
		return ck
	}
	ck.Status = Warn
	ck.Detail = strings.Join(missing, ", ") + " (only needed when kernel overlayfs is unavailable)"
	ck.Fix = strings.Join(fixes, "\n")
	return ck
}

// tun: --net slirp opens a TAP device in the sandbox's network namespace.
func (c *checker) tun() Check {
	ck := Check{Name: "tun", Status: OK}
	dev := join(c.h.Dev, "net", "tun")
	found, missing := c.deviceFindings(dev)
	if len(missing) == 0 {
		ck.Detail = strings.Join(found, ", ")
		return ck
	}
	ck.Status = Warn
	ck.Detail = strings.Join(missing, ", ") + " (needed for --net slirp)"
	ck.Fix = strings.Join(c.deviceFix(dev, "tun"), "\n")
	return ck
}

// deviceFindings checks that a device node exists and that this user may
// open it read-write; stock distributions ship fuse and tun as 0666.
func (c *checker) deviceFindings(dev string) (found, missing []string) {
	st, err := os.Stat(dev)
	switch {
	case err != nil:
		missing = append(missing, dev+" missing")
	case !c.canRW(dev):
		missing = append(missing, fmt.Sprintf("%s not read-write for uid %d (mode %04o)", dev, c.h.UID, st.Mode().Perm()))
	default:
		found = append(found, dev+" read-write")
	}
	return found, missing
}

func (c *checker) deviceFix(dev, module string) []string {
	if _, err := os.Stat(dev); err != nil {
		return []string{"sudo modprobe " + module + " && sudo chmod 0666 " + dev}
	}
	if !c.canRW(dev) {
		return []string{"sudo chmod 0666 " + dev}
	}
	return nil
}

func (c *checker) hasFilesystem(name string) bool {
	f, err := os.Open(join(c.h.Proc, "filesystems"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[len(fields)-1] == name {
			return true
		}
	}
	return false
}

// kernelVersion is the numeric head of a release string like "6.1.0-18-amd64".
type kernelVersion struct{ major, minor int }

func (k kernelVersion) String() string { return fmt.Sprintf("%d.%d", k.major, k.minor) }

func (k kernelVersion) atLeast(major, minor int) bool {
	return k.major > major || k.major == major && k.minor >= minor
}

// KernelAtLeast reports whether a release string ("6.1.0-18-amd64") is at
// least major.minor; an unreadable one is not.
func KernelAtLeast(release string, major, minor int) bool {
	k, ok := parseKernel(release)
	return ok && k.atLeast(major, minor)
}

// KernelRelease is this kernel's release (uname -r).
func KernelRelease() string { return kernelRelease() }

func parseKernel(release string) (kernelVersion, bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return kernelVersion{}, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(leadingDigits(parts[1]))
	if err1 != nil || err2 != nil {
		return kernelVersion{}, false
	}
	return kernelVersion{major, minor}, true
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// kernel: 5.12 brought mount_setattr (recursive read-only binds), 5.11
// unprivileged overlayfs, 4.18 FUSE in user namespaces.
func (c *checker) kernel() Check {
	ck := Check{Name: "kernel"}
	k, ok := parseKernel(c.h.KernelRelease)
	const upgrade = "install a kernel >= 5.12 from your distribution and reboot"
	switch {
	case !ok:
		ck.Status, ck.Detail = Warn, fmt.Sprintf("cannot parse kernel release %q", c.h.KernelRelease)
		return ck
	case k.atLeast(5, 12):
		ck.Status = OK
		ck.Detail = fmt.Sprintf("%s (mount_setattr, unprivileged overlayfs)", c.h.KernelRelease)
		return ck
	case k.atLeast(4, 18):
		// sbx makes mounts read-only with mount_setattr, recursively.
		ck.Status = Fail
		ck.Detail = fmt.Sprintf("%s: no mount_setattr (Linux 5.12), which sbx needs for read-only mounts", c.h.KernelRelease)
	default:
		ck.Status = Fail
		ck.Detail = fmt.Sprintf("%s is older than 4.18: no FUSE or overlayfs in a user namespace", c.h.KernelRelease)
	}
	ck.Fix = upgrade
	return ck
}
