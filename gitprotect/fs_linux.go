package gitprotect

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
)

// fileID names a file for as long as it exists: checked when walking back
// up with "..", so that a directory moved meanwhile is noticed.
type fileID struct{ dev, ino uint64 }

func idOf(st *unix.Stat_t) fileID { return fileID{uint64(st.Dev), st.Ino} }

func fstatID(fd int) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileID{}, err
	}
	return idOf(&st), nil
}

func lstatAt(dir int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// openBeneath opens rel below dir without following any symlink, magic
// link or "..", whatever the tree holds (rootfs.OpenBeneathAt); a symlink
// at rel itself is opened as one with O_PATH, never followed.
func openBeneath(dir int, rel string, flags int, mode uint32) (int, error) {
	return rootfs.OpenBeneathAt(dir, rel, uint64(flags|unix.O_NOFOLLOW), mode)
}

// openParent opens ".." of dir and checks that it is the directory we came
// down from.
func openParent(dir int, want fileID) (int, error) {
	fd, err := unix.Openat(dir, "..", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, err
	}
	if got, err := fstatID(fd); err != nil || got != want {
		unix.Close(fd)
		return -1, errors.New("a directory was moved during the merge")
	}
	return fd, nil
}

// openChildDir opens the directory name in dir and checks it is the one
// lstat saw.
func openChildDir(dir int, name string, want fileID) (int, error) {
	fd, err := openBeneath(dir, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, err
	}
	if got, err := fstatID(fd); err != nil || got != want {
		unix.Close(fd)
		return -1, errors.New("directory changed while being read")
	}
	return fd, nil
}

// readNames lists dir through a descriptor of its own, so dir's offset is
// left alone.
func readNames(dir int) ([]string, error) {
	fd, err := unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	return f.Readdirnames(-1)
}

// openRegular opens name in dir for reading, only if it is a regular file.
// O_NONBLOCK keeps a fifo swapped in from blocking the open.
func openRegular(dir int, name string) (*os.File, error) {
	fd, err := openBeneath(dir, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, errors.New("not a regular file")
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// readSmall reads a regular file that must not exceed limit bytes.
func readSmall(dir int, name string, limit int64) ([]byte, error) {
	f, err := openRegular(dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
