package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// OpenBeneath opens path, which lies under root, from a descriptor of root
// without following any symlink on the way (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS): root is a directory the command can write, so any
// link below it may have been planted to point at a host path. root itself
// is the user's choice and is opened as given. flags are added to
// O_CLOEXEC (O_PATH, O_DIRECTORY, O_RDONLY...).
func OpenBeneath(root, path string, flags uint64) (int, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return -1, fmt.Errorf("%s is not under %s", path, root)
	}
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", root, err)
	}
	defer unix.Close(rootFD)
	fd, err := OpenBeneathAt(rootFD, rel, flags, 0)
	switch {
	case errors.Is(err, unix.ELOOP):
		return -1, fmt.Errorf("%s: a symbolic link is in the way under %s, which the sandbox can write; sbx does not follow it: %w", path, root, err)
	case errors.Is(err, unix.EXDEV):
		return -1, fmt.Errorf("%s: leaves %s: %w", path, root, err)
	case err != nil:
		return -1, fmt.Errorf("open %s: %w", path, err)
	}
	return fd, nil
}

// OpenBeneathAt opens rel below the directory dir without following any
// symlink, magic link or "..", with flags (O_CLOEXEC added) and mode for a
// file it creates. It retries a lookup that a concurrent rename disturbed.
func OpenBeneathAt(dir int, rel string, flags uint64, mode uint32) (int, error) {
	how := &unix.OpenHow{
		Flags:   flags | unix.O_CLOEXEC,
		Mode:    uint64(mode),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range 64 {
		fd, err := unix.Openat2(dir, rel, how)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		return fd, err
	}
	return -1, unix.EAGAIN
}
