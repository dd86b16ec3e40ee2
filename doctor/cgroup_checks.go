package doctor

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sbx-sandbox/sbx/cgdelegate"
)

// cgroupLayout is how the host mounts cgroups.
type cgroupLayout struct {
	mode string // "unified", "hybrid", "legacy", or "none"
	v2   string // the cgroup2 mount, "" when there is none
	err  error
}

func (c *checker) cgroupLayout() cgroupLayout {
	t, err := c.h.FSType(c.h.CgroupFS)
	switch {
	case err != nil:
		return cgroupLayout{mode: "none", err: err}
	case t == cgroup2Magic:
		return cgroupLayout{mode: "unified", v2: c.h.CgroupFS}
	case t == tmpfsMagic:
		// systemd's hybrid layout: v1 controllers plus a controller-less
		// cgroup2 at unified/ that systemd uses only to track processes.
		u := join(c.h.CgroupFS, "unified")
		if ut, err := c.h.FSType(u); err == nil && ut == cgroup2Magic {
			return cgroupLayout{mode: "hybrid", v2: u}
		}
		return cgroupLayout{mode: "legacy"}
	case t == cgroup1Magic:
		return cgroupLayout{mode: "legacy"}
	}
	return cgroupLayout{mode: "none", err: fmt.Errorf("file system type 0x%x", t)}
}

// controllers lists a cgroup directory's cgroup.controllers.
func controllers(dir string) []string {
	b, err := os.ReadFile(join(dir, "cgroup.controllers"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

// unifiedFix switches the host to the unified hierarchy at the next boot.
func (c *checker) unifiedFix() string {
	const arg = "systemd.unified_cgroup_hierarchy=1"
	for _, id := range c.osRelease() {
		if id == "fedora" || id == "rhel" || id == "centos" {
			return "sudo grubby --update-kernel=ALL --args=" + arg + " && sudo reboot"
		}
	}
	return `sudo sed -i 's/^GRUB_CMDLINE_LINUX="/&` + arg + ` /' /etc/default/grub && sudo update-grub && sudo reboot`
}

// cgroup2: resource limits (--memory, --cpus, --pids, --io-*) use cgroup v2.
func (c *checker) cgroup2() Check {
	ck := Check{Name: "cgroup2"}
	l := c.cgroupLayout()
	switch l.mode {
	case "unified":
		ck.Status = OK
		ck.Detail = "unified (cgroup v2 at " + l.v2 + ")"
		return ck
	case "hybrid":
		ck.Detail = fmt.Sprintf("hybrid: v1 controllers, cgroup v2 at %s with controllers: %s",
			l.v2, listOrNone(controllers(l.v2)))
	case "legacy":
		ck.Detail = "cgroup v1 only at " + c.h.CgroupFS
	default:
		ck.Detail = fmt.Sprintf("no cgroup file system at %s (%v)", c.h.CgroupFS, l.err)
	}
	ck.Status = Warn
	ck.Detail += "; limits like --memory unavailable"
	ck.Fix = c.unifiedFix()
	return ck
}

// ownCgroup reads this process's cgroup v2 path from /proc/self/cgroup.
func (c *checker) ownCgroup() (string, bool) {
	f, err := os.Open(join(c.h.ProcSelf, "cgroup"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, true
		}
	}
	return "", false
}

// requiredControllers back --memory, --pids and --cpus; io is optional
// (--io-*-bps), and many hosts do not delegate it.
var requiredControllers = []string{"memory", "pids", "cpu"}

// delegationFix: a scope with Delegate=yes for one run, a drop-in that
// delegates every controller to user sessions, or the user manager kept
// running for a user without a login session.
const delegationFix = cgdelegate.FixScope + "\nor: " + cgdelegate.FixDropIn + "\nor: " + cgdelegate.FixLinger

// cgroupDelegation: limits need a cgroup v2 subtree this user may write,
// with the controllers enabled by its parent.
func (c *checker) cgroupDelegation() Check {
	ck := Check{Name: "cgroup-delegation", Status: Warn}
	l := c.cgroupLayout()
	if l.mode != "unified" {
		ck.Detail = fmt.Sprintf("no cgroup v2 hierarchy with controllers (%s)", l.mode)
		ck.Fix = c.unifiedFix()
		return ck
	}
	path, ok := c.ownCgroup()
	if !ok {
		ck.Detail = "no cgroup v2 entry (0::) in " + join(c.h.ProcSelf, "cgroup")
		return ck
	}
	dir := join(l.v2, path)
	var problems []string
	if c.h.Access(dir, wOK|xOK) != nil ||
		c.h.Access(join(dir, "cgroup.procs"), wOK) != nil ||
		c.h.Access(join(dir, "cgroup.subtree_control"), wOK) != nil {
		problems = append(problems, fmt.Sprintf("cgroup %s not writable by uid %d", path, c.h.UID))
	}
	have := controllers(dir)
	var lack []string
	for _, ctl := range requiredControllers {
		if !slices.Contains(have, ctl) {
			lack = append(lack, ctl)
		}
	}
	if len(lack) > 0 {
		problems = append(problems, fmt.Sprintf("controllers missing: %s (has: %s)", strings.Join(lack, " "), listOrNone(have)))
	}
	if len(problems) > 0 {
		ck.Detail = strings.Join(problems, ", ")
		if c.h.UserBus != nil && c.h.UserBus() {
			ck.Detail += "; sbx run asks the systemd user manager for a delegated scope when limits are asked for"
		}
		ck.Fix = delegationFix
		return ck
	}
	ck.Status = OK
	ck.Detail = fmt.Sprintf("cgroup %s delegated, controllers: %s", path, listOrNone(have))
	return ck
}
