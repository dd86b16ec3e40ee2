//go:build linux

package seccomp

import (
	elastic "github.com/elastic/go-seccomp-bpf"
	moby "github.com/moby/profiles/seccomp"
	"golang.org/x/sys/unix"
)

// deniedAlways answer EPERM whatever the capabilities (Docker allows some of
// them with CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON, ...): keyrings are shared
// with the host user, and the rest is kernel attack surface a build step has
// no use for inside a user namespace (BPF, perf, userfaultfd and io_uring are
// a steady source of local privilege escalations; the new mount API and
// open_tree would bypass the mount rules; open_by_handle_at is the Shocker
// escape).
var deniedAlways = []string{
	"keyctl", "add_key", "request_key",
	"bpf", "perf_event_open", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module",
	"open_by_handle_at",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
	"open_tree", "open_tree_attr", "mount_setattr",
}

// nsFlags are clone's namespace flags. CLONE_NEWTIME (0x80) shares its bit
// with clone's exit signal, where no valid signal sets it (signals stop at
// 64), so testing it in clone refuses nothing legitimate.
const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// nsSyscalls create or join namespaces; with nested namespaces allowed the
// classic mount calls come with them, as rootless tools (bwrap, podman,
// buildah) mount in the namespaces they make. The kernel grants a mount
// only over a mount namespace whose owner the caller holds CAP_SYS_ADMIN
// in: one the command made itself, never the sandbox's (the command holds
// no CAP_SYS_ADMIN over it, and copied into a namespace the command makes
// its mounts are locked). The new mount API stays denied.
var nsSyscalls = []string{"clone", "unshare", "setns"}

var nestedMountSyscalls = []string{"mount", "umount2", "pivot_root"}

// defaultRules is Docker's default profile for the caps, under sbx's own
// rules, which are added first and so take precedence for their syscalls.
func defaultRules(o Options) (*ruleSet, uint32, error) {
	rs, err := newRuleSet()
	if err != nil {
		return nil, 0, err
	}
	if o.AllowNestedUserns {
		// Before the namespace denials below, and before Docker's clone
		// rule, which without CAP_SYS_ADMIN refuses namespace flags.
		rs.addAll(nsSyscalls, clause{action: retAllow})
		rs.addAll(nestedMountSyscalls, clause{action: retAllow})
	}
	rs.addAll(deniedAlways, clause{action: retEPERM})
	if !o.AllowNestedUserns {
		// clone with a namespace flag, and unshare and setns whatever their
		// arguments (as Docker does without CAP_SYS_ADMIN), even with
		// CAP_SYS_ADMIN, with which Docker's profile would allow them. Flags are in argument 0 on every table
		// elastic has (s390 swaps clone's arguments; there is no table).
		rs.add("clone", clause{action: retEPERM, sets: []elastic.ArgumentConditions{{
			{Argument: 0, Operation: elastic.BitsSet, Value: nsFlags},
		}}})
		rs.addAll([]string{"unshare", "setns"}, clause{action: retEPERM})
	}
	// clone3 passes its flags behind a pointer, out of seccomp's sight:
	// ENOSYS makes glibc and musl fall back to clone, whose flags are
	// checked, even with CAP_SYS_ADMIN or nested user namespaces allowed.
	rs.add("clone3", clause{action: retENOSYS})
	// Terminal injection (CVE-2017-5226) on the low 32 bits of the request,
	// spliced into the one filter just before Docker's ioctl allow, rather
	// than a second filter: since we lay out the filter ourselves a splice
	// costs nothing, and every ioctl would otherwise run two programs.
	rs.add("ioctl", clause{action: retEPERM, low32Arg: 1, low32: []uint32{unix.TIOCSTI, unix.TIOCLINUX}})

	// moby's DefaultProfile is Go data, so there is no JSON to parse on
	// every run; includes/excludes are evaluated against the bounding set
	// and the running kernel.
	docker, err := moby.GetDefaultProfile(ociSpec(o.Caps))
	if err != nil {
		return nil, 0, err
	}
	if err := rs.addProfile(docker); err != nil {
		return nil, 0, err
	}
	def, err := action(docker.DefaultAction, docker.DefaultErrnoRet)
	if err != nil {
		return nil, 0, err
	}
	return rs, def, nil
}
