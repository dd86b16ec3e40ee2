package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// RemoveTree removes dir as its owner can: directories it owns but cannot
// enter (an overlay's work/work is mode 000) are opened up first. It fails
// on files owned by other ids (subordinate ones), which need the user
// namespace.
//
// It runs at the end of every run, on the path to sbx's exit, so it does no
// more than it must: one pass with the entry types from getdents, rmdir for
// directories and unlink for the rest (no failed unlink on each directory),
// and a chmod only for a directory that refuses to open. Every change is a
// journaled metadata operation on the state's file system. Nothing is
// followed: directories are opened with O_NOFOLLOW relative to their
// parent.
func RemoveTree(dir string) error {
	dir = filepath.Clean(dir)
	parent, err := unix.Open(filepath.Dir(dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	defer unix.Close(parent)
	err = removeEntry(parent, filepath.Base(dir), false)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// removeEntry removes name in the directory parent; isDir comes from the
// directory entry's type.
func removeEntry(parent int, name string, isDir bool) error {
	if !isDir {
		err := unix.Unlinkat(parent, name, 0)
		if err != unix.EISDIR {
			return err
		}
	}
	if err := removeContents(parent, name); err != nil {
		return err
	}
	return unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
}

// removeContents empties the directory name in parent.
func removeContents(parent int, name string) error {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(parent, name, flags, 0)
	if err == unix.EACCES {
		if err := openUp(parent, name); err != nil {
			return err
		}
		fd, err = unix.Openat(parent, name, flags, 0)
	}
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), name)
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return err
	}
	if len(entries) > 0 && unix.Faccessat(fd, ".", unix.W_OK|unix.X_OK, 0) != nil {
		if err := openUp(parent, name); err != nil {
			return err
		}
	}
	var first error
	for _, e := range entries {
		if err := removeEntry(fd, e.Name(), e.IsDir()); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// openUp gives the owner rwx on the directory name in parent, through a
// descriptor of that very directory (never a path that could be swapped
// for a symlink).
func openUp(parent int, name string) error {
	fd, err := unix.Openat(parent, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), 0o700)
}
