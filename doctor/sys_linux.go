package doctor

import (
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
