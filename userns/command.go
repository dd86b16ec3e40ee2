package userns

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/sbx-sandbox/sbx/spec"
)

// InitArg marks the re-executed child: argv[1] of /proc/self/exe.
const InitArg = "__init"

// RemoveArg marks the helper that removes a tree inside a user namespace.
const RemoveArg = "__rmtree"

// Cloneflags are the namespaces a run creates.
func Cloneflags(net spec.NetMode) uintptr {
	flags := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
		syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if net != spec.NetHost {
		flags |= syscall.CLONE_NEWNET
	}
	return flags
}

// InitCommand builds the command that starts the child. It is pure so its
// attributes can be checked without running it.
//
// The child is sbx itself (/proc/self/exe, not a path that could be swapped
// on disk), in new namespaces, with the socket as fd 3 and no environment:
// the command's environment travels in the Spec.
//
// cgroupFD, when not negative, is a directory descriptor of the cgroup the
// child is cloned straight into (CLONE_INTO_CGROUP), so no process of the
// sandbox ever runs outside its limits, and into a new cgroup namespace.
func InitCommand(s *spec.Spec, sock *os.File, lastCap int, cgroupFD int) *exec.Cmd {
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{os.Args[0], InitArg},
		Env:        []string{},
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{sock},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: Cloneflags(s.Net),
			// A session of its own: terminal signals reach sbx only, which
			// forwards each once.
			Setsid: true,
			// If sbx dies, even by SIGKILL, PID 1 dies and the kernel
			// kills every process of the namespace. Pdeathsig fires when
			// the *thread* that forked exits (golang/go#27505): sbx forks
			// from the main thread, locked in main's init.
			Pdeathsig: syscall.SIGKILL,
			// See AllCaps.
			AmbientCaps: AllCaps(lastCap),
		},
	}
	if cgroupFD >= 0 {
		// A cgroup namespace too, rooted at that cgroup (the kernel roots
		// it at the target of CLONE_INTO_CGROUP): the sandbox sees its own
		// cgroup as /, and its /sys/fs/cgroup shows nothing above it.
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWCGROUP
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = cgroupFD
	}
	return cmd
}

// AllCaps lists capabilities 0..lastCap, to be kept as ambient across the
// child's exec. The child starts with every capability in its new user
// namespace, but an exec by a uid that is not 0 there clears them, and at
// exec time no uid is mapped yet (the parent writes the maps afterwards,
// newuidmap needs the child's pid). Ambient capabilities survive that exec;
// PID 1 clears them before it starts the command.
func AllCaps(lastCap int) []uintptr {
	caps := make([]uintptr, 0, lastCap+1)
	for c := 0; c <= lastCap; c++ {
		caps = append(caps, uintptr(c))
	}
	return caps
}

// LastCap reads the highest capability number this kernel knows.
func LastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40 // CAP_CHECKPOINT_RESTORE, Linux 5.9
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
}
