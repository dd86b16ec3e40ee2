package doctor

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	rOK = unix.R_OK
	wOK = unix.W_OK
	xOK = unix.X_OK
)

// access checks against the real uid, which is the uid sbx runs as.
func access(path string, mode uint32) error {
	return unix.Access(path, mode)
}

func fsType(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return int64(st.Type), nil
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// hasFileCaps reports whether path carries file capabilities, the
// alternative to setuid that Fedora and others use for newuidmap.
func hasFileCaps(path string) bool {
	sz, err := unix.Getxattr(path, "security.capability", nil)
	return err == nil && sz > 0
}

const (
	cgroup2Magic = unix.CGROUP2_SUPER_MAGIC
	tmpfsMagic   = unix.TMPFS_MAGIC
	cgroup1Magic = unix.CGROUP_SUPER_MAGIC
)

// landlockABI asks the kernel for its Landlock ABI version; 0 when it has
// none (or refuses the call).
func landlockABI() int {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		return 0
	}
	return int(v)
}

// probeSeccomp installs a filter that allows everything, as sbx installs
// its own: after no_new_privs, without privilege. It runs in the probe's
// own process.
func probeSeccomp() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	allow := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	prog := unix.SockFprog{Len: 1, Filter: &allow[0]}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	return nil
}
