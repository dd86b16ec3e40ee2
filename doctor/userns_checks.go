package doctor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysctlBlock is a sysctl that forbids (some) user namespaces.
type sysctlBlock struct {
	detail     string
	fix        string
	rootExempt bool // the knob only restricts callers without CAP_SYS_ADMIN
}

// usernsSysctl reads the knobs that disable user namespaces, in the order a
// distribution would have set them; nil when none does.
func (c *checker) usernsSysctl() *sysctlBlock {
	if v, ok := readInt(join(c.h.ProcSys, "user", "max_user_namespaces")); ok && v == 0 {
		return &sysctlBlock{
			detail: "user namespaces disabled (user.max_user_namespaces=0)",
			fix:    sysctlFix("user.max_user_namespaces", "28633"),
		}
	}
	// Debian before 11 and some hardened kernels carry this out-of-tree knob.
	if v, ok := readInt(join(c.h.ProcSys, "kernel", "unprivileged_userns_clone")); ok && v == 0 {
		return &sysctlBlock{
			detail:     "unprivileged user namespaces disabled (kernel.unprivileged_userns_clone=0)",
			fix:        sysctlFix("kernel.unprivileged_userns_clone", "1"),
			rootExempt: true,
		}
	}
	// Ubuntu 23.10 and later confine unprivileged user namespaces with AppArmor.
	if v, ok := readInt(join(c.h.ProcSys, "kernel", "apparmor_restrict_unprivileged_userns")); ok && v == 1 {
		return &sysctlBlock{
			detail:     "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)",
			fix:        sysctlFix("kernel.apparmor_restrict_unprivileged_userns", "0"),
			rootExempt: true,
		}
	}
	return nil
}

// sysctlFix sets a knob now and persists it across reboots, one file per
// knob so that fixing a second knob does not undo the first.
func sysctlFix(key, value string) string {
	return fmt.Sprintf("sudo sysctl -w %s=%s\necho %s=%s | sudo tee /etc/sysctl.d/60-sbx-%s.conf",
		key, value, key, value, key)
}

func (c *checker) userns() Check {
	ck := Check{Name: "userns"}
	block := c.usernsSysctl()
	if block != nil && !(block.rootExempt && c.h.UID == 0) {
		ck.Status, ck.Detail, ck.Fix = Fail, block.detail, block.fix
		return ck
	}
	ran, err := c.probe("userns")
	if ran && err != nil {
		ck.Status = Fail
		ck.Detail = "cannot create a user namespace: " + oneLine(err.Error())
		ck.Fix = c.probeFailureFix(err)
		return ck
	}
	if block != nil {
		// Root may still create namespaces; other users of this host may not.
		ck.Status, ck.Fix = Warn, block.fix
		ck.Detail = block.detail + "; root is exempt, other users are not"
		return ck
	}
	ck.Status = OK
	ck.Detail = "unprivileged user namespaces allowed"
	if v, ok := readInt(join(c.h.ProcSys, "user", "max_user_namespaces")); ok {
		ck.Detail += fmt.Sprintf(" (max_user_namespaces=%d)", v)
	}
	if !ran {
		ck.Detail += ", not probed"
	}
	return ck
}

// probeFailureFix guesses the fix for a clone that failed although no sysctl
// forbids it: the limit on the number of namespaces, or a container's filter.
func (c *checker) probeFailureFix(err error) string {
	if errors.Is(err, syscall.ENOSPC) {
		return sysctlFix("user.max_user_namespaces", "28633")
	}
	if ctr, ok := c.container(); ok {
		return containerFix(ctr.runtime)
	}
	// Left: an LSM (SELinux, a per-binary AppArmor profile), a systemd unit
	// with RestrictNamespaces=, or a chroot. The kernel log names the denier.
	return "sudo dmesg | grep -iE 'apparmor|selinux|denied' | tail"
}

// containerInfo is what gave a container away.
type containerInfo struct {
	runtime  string // docker, podman, kubernetes, containerd, lxc, ... or ""
	evidence string // the file or line that showed it
}

// container detects running inside a container. Kubernetes is checked first
// because its pods also carry the runtime's own markers.
func (c *checker) container() (containerInfo, bool) {
	cg, _ := os.ReadFile(join(c.h.ProcSelf, "cgroup"))
	cgroup := string(cg)
	switch {
	case strings.Contains(cgroup, "kubepods"):
		return containerInfo{"kubernetes", "kubepods in /proc/self/cgroup"}, true
	case exists(join(c.h.Root, ".dockerenv")):
		return containerInfo{"docker", "/.dockerenv"}, true
	case exists(join(c.h.Root, "run", ".containerenv")):
		return containerInfo{"podman", "/run/.containerenv"}, true
	}
	// PID 1's environment is readable only to its owner; skip it otherwise.
	if env, err := os.ReadFile(join(c.h.Proc, "1", "environ")); err == nil {
		for _, kv := range strings.Split(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, "container="); ok && v != "" {
				return containerInfo{v, "container=" + v + " in /proc/1/environ"}, true
			}
		}
	}
	for _, rt := range []string{"docker", "containerd", "libpod"} {
		if strings.Contains(cgroup, rt) {
			if rt == "libpod" {
				rt = "podman"
			}
			return containerInfo{rt, rt + " in /proc/self/cgroup"}, true
		}
	}
	return containerInfo{}, false
}

// seccompMode reads "Seccomp:" from /proc/self/status: 0 off, 1 strict,
// 2 filter; -1 when unknown.
func (c *checker) seccompMode() int {
	f, err := os.Open(join(c.h.ProcSelf, "status"))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Seccomp:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return -1
}

func (c *checker) containerSeccomp() Check {
	ck := Check{Name: "container-seccomp", Status: OK}
	ctr, in := c.container()
	if !in {
		ck.Detail = "not inside a container"
		return ck
	}
	where := "inside a container (" + ctr.evidence + ")"
	filtered := c.seccompMode() == 2
	if filtered {
		where += " with a seccomp filter"
	}
	if c.usernsSysctl() != nil {
		// The host's sysctl already explains a failure; see the userns check.
		ck.Status = Warn
		ck.Detail = where + "; user namespaces disabled by a sysctl (see userns)"
		return ck
	}
	ran, err := c.probe("userns")
	switch {
	case ran && err != nil:
		ck.Status = Fail
		ck.Detail = where + " that forbids user namespaces: " + oneLine(err.Error())
		ck.Fix = containerFix(ctr.runtime)
	case ran:
		ck.Detail = where + "; namespaces allowed"
	case filtered:
		ck.Status = Warn
		ck.Detail = where + "; user namespaces not probed"
		ck.Fix = containerFix(ctr.runtime)
	default:
		ck.Detail = where + "; user namespaces not probed"
	}
	return ck
}

// containerFix says how to start the outer container so that it lets sbx
// create namespaces: Docker's and Podman's default seccomp profiles refuse
// clone/unshare with CLONE_NEWUSER, and their AppArmor profile refuses mount.
func containerFix(runtime string) string {
	docker := "docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined ..."
	podman := "podman run --security-opt seccomp=unconfined --security-opt apparmor=unconfined ..."
	kube := "kubernetes: securityContext: {seccompProfile: {type: Unconfined}, appArmorProfile: {type: Unconfined}}"
	profile := "or: --security-opt seccomp=PROFILE.json with a profile that allows clone, clone3 and unshare with CLONE_NEWUSER"
	switch runtime {
	case "docker":
		return docker + "\n" + profile
	case "podman":
		return podman + "\n" + profile
	case "kubernetes":
		return kube
	}
	return docker + "\n" + podman + "\n" + kube
}
