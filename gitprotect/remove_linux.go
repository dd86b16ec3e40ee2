package gitprotect

import (
	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
)

// The host trees a merge removes (whiteouts, opaque directories) go with
// rootfs.RemoveTreeAt: iterative, bounded descriptors, no symlink followed.

// removeAll removes name from dir: a file, a symlink (never followed) or a
// whole directory tree. It reports whether something was there.
func removeAll(dir int, name string) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == unix.ENOENT {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, rootfs.RemoveTreeAt(dir, name)
}

// clearDir empties the directory dir.
func clearDir(dir int) error {
	names, err := readNames(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := rootfs.RemoveTreeAt(dir, name); err != nil {
			return err
		}
	}
	return nil
}
