package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// RemoveTree removes dir as its owner can; see RemoveTreeAt. Only dir's
// parent is opened by path: callers pass sbx's own state paths.
func RemoveTree(dir string) error {
	dir = filepath.Clean(dir)
	parent, err := unix.Open(filepath.Dir(dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	defer unix.Close(parent)
	if err := RemoveTreeAt(parent, filepath.Base(dir)); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// RemoveTreeAt removes name in the directory parentFD, whatever it is, and
// everything below it. A missing name is not an error.
//
// The tree may have been shaped by the hostile command, so the walk is
// iterative and holds at most four descriptors of its own whatever the
// depth (no recursion, no full path string: a tree deeper than PATH_MAX or
// RLIMIT_NOFILE still goes). It never follows a symlink: directories are
// opened with O_NOFOLLOW relative to their parent, and the way back up
// ("..") is checked against the device and inode recorded on the way down.
// Nor does it empty a file system mounted below the tree.
//
// Directories the owner cannot enter or write (an overlay's work/work is
// mode 000) are opened up first. Files in directories owned by other ids
// (subordinate ones) make it fail; the caller then retries in the user
// namespace. Everything else it can remove is removed before it fails.
//
// It runs at the end of every run, so it does no more than it must: entry
// types come from getdents, non-directories are unlinked at once, and only
// directories are descended into (no failed unlink per directory).
func RemoveTreeAt(parentFD int, name string) error {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("remove %q: not a name in a directory", name)
	}
	err := unix.Unlinkat(parentFD, name, 0)
	switch err {
	case nil, unix.ENOENT:
		return nil
	case unix.EISDIR:
	default:
		return err
	}
	r := &remover{top: parentFD, parent: parentFD, cur: -1, buf: make([]byte, 32<<10)}
	defer r.closeAll()
	return r.run(name)
}

// frame is one directory on the way down: its name in its parent, its
// identity, and the subdirectories still to remove.
type frame struct {
	name     string
	dev, ino uint64
	subdirs  []string
	failed   bool // something below could not be removed
	rescans  int
}

// remover holds the open end of the walk: cur is the directory being
// emptied (-1 before the first and after the last) and parent the one
// holding it, which is top, the caller's descriptor, for the first frame.
type remover struct {
	top         int
	parent, cur int
	stack       []frame
	buf         []byte
	first       error
}

// maxRescans bounds how often a directory found not empty after its
// listing was removed is listed again.
const maxRescans = 2

func (r *remover) run(name string) error {
	if err := r.enter(name, 0); err != nil {
		r.note(name, err)
		return r.first
	}
	for len(r.stack) > 0 {
		f := &r.stack[len(r.stack)-1]
		if n := len(f.subdirs); n > 0 {
			sub := f.subdirs[n-1]
			f.subdirs = f.subdirs[:n-1]
			if err := r.enter(sub, 0); err != nil {
				f.failed = true
				r.note(sub, err)
			}
			continue
		}
		if err := r.leave(); err != nil {
			return err
		}
	}
	return r.first
}

// enter opens the subdirectory name of cur (of top for the first frame),
// makes it writable to its owner if need be, unlinks its non-directories
// and pushes it with the list of its subdirectories.
func (r *remover) enter(name string, rescans int) error {
	at := r.top
	if r.cur >= 0 {
		at = r.cur
	}
	fd, err := openDir(at, name)
	if err == unix.ENOENT {
		return nil
	}
	if err == unix.ELOOP || err == unix.ENOTDIR {
		// Not a directory after all (its type changed): remove the entry.
		return ignoreENOENT(unix.Unlinkat(at, name, 0))
	}
	if err != nil {
		return err
	}
	id, err := statFD(fd)
	if err != nil {
		unix.Close(fd)
		return err
	}
	if id.mountRoot && len(r.stack) > 0 {
		// Never empty a file system mounted below the tree.
		unix.Close(fd)
		return errors.New("a mount point; not removing what is below it")
	}
	if id.mode&0o300 != 0o300 {
		// Unlinking needs write and search permission; fchmod fails
		// harmlessly on a directory owned by someone else.
		unix.Fchmod(fd, 0o700)
	}
	r.stack = append(r.stack, frame{name: name, dev: id.dev, ino: id.ino, rescans: rescans})
	if err := r.list(fd, &r.stack[len(r.stack)-1]); err != nil {
		r.stack = r.stack[:len(r.stack)-1]
		unix.Close(fd)
		if err == unix.ENOENT {
			return nil // removed meanwhile by another remover
		}
		return err
	}
	if r.cur >= 0 {
		if r.parent != r.top {
			unix.Close(r.parent)
		}
		r.parent = r.cur
	}
	r.cur = fd
	return nil
}

// list reads the directory fd to its end, unlinking what is not a
// directory and noting the subdirectories in f.
func (r *remover) list(fd int, f *frame) error {
	for {
		n, err := unix.Getdents(fd, r.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for b := r.buf[:n]; len(b) > 0; {
			name, typ, rest, ok := parseDirent(b)
			if !ok {
				return errors.New("malformed directory entry")
			}
			b = rest
			if name == "." || name == ".." {
				continue
			}
			if typ == unix.DT_UNKNOWN {
				var st unix.Stat_t
				if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
					if err != unix.ENOENT {
						f.failed = true
						r.note(name, err)
					}
					continue
				}
				if st.Mode&unix.S_IFMT == unix.S_IFDIR {
					typ = unix.DT_DIR
				}
			}
			if typ == unix.DT_DIR {
				f.subdirs = append(f.subdirs, name)
				continue
			}
			switch err := unix.Unlinkat(fd, name, 0); err {
			case nil, unix.ENOENT:
			case unix.EISDIR:
				f.subdirs = append(f.subdirs, name)
			default:
				f.failed = true
				r.note(name, err)
			}
		}
	}
}

// leave closes cur, removes it from parent and makes parent the current
// directory again, reopening that one's own parent through "..".
func (r *remover) leave() error {
	f := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	unix.Close(r.cur)
	r.cur = r.parent
	err := ignoreENOENT(unix.Unlinkat(r.cur, f.name, unix.AT_REMOVEDIR))
	switch len(r.stack) {
	case 0:
		r.cur, r.parent = -1, r.top
	case 1:
		r.parent = r.top
	default:
		want := r.stack[len(r.stack)-2]
		up, uerr := unix.Openat(r.cur, "..", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if uerr != nil {
			r.parent = r.top
			return r.abort(uerr)
		}
		r.parent = up
		id, uerr := statFD(up)
		if uerr != nil {
			return r.abort(uerr)
		}
		if id.dev != want.dev || id.ino != want.ino {
			return r.abort(errors.New("a directory was moved during removal"))
		}
	}
	if err == unix.ENOTEMPTY && !f.failed && f.rescans < maxRescans {
		// Entries appeared, or the listing missed some: list it again.
		if err := r.enter(f.name, f.rescans+1); err != nil {
			r.failAbove(f.name, err)
		}
		return nil
	}
	if err != nil {
		r.failAbove(f.name, err)
	}
	return nil
}

// failAbove records err for the entry name of the current directory.
func (r *remover) failAbove(name string, err error) {
	if len(r.stack) > 0 {
		r.stack[len(r.stack)-1].failed = true
	}
	r.note(name, err)
}

func (r *remover) abort(err error) error {
	r.note("..", err)
	return r.first
}

// note keeps the first error, naming the entry by its path below the
// removed tree (shortened: it is for a message only, never opened).
func (r *remover) note(name string, err error) {
	if r.first != nil {
		return
	}
	parts := make([]string, 0, len(r.stack)+1)
	for _, f := range r.stack {
		parts = append(parts, f.name)
	}
	p := filepath.Join(append(parts, name)...)
	if len(p) > 200 {
		p = "…" + p[len(p)-200:]
	}
	r.first = fmt.Errorf("%s: %w", p, err)
}

func (r *remover) closeAll() {
	if r.cur >= 0 && r.cur != r.top {
		unix.Close(r.cur)
	}
	if r.parent != r.top && r.parent != r.cur {
		unix.Close(r.parent)
	}
}

// openDir opens the directory name in parent without following a symlink,
// opening it up for its owner when it refuses.
func openDir(parent int, name string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(parent, name, flags, 0)
	if err == unix.EACCES {
		if err := openUp(parent, name); err != nil {
			return -1, err
		}
		fd, err = unix.Openat(parent, name, flags, 0)
	}
	return fd, err
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

func ignoreENOENT(err error) error {
	if err == unix.ENOENT {
		return nil
	}
	return err
}

// parseDirent is ParseDirent for the walks that need a name and a type.
func parseDirent(b []byte) (name string, typ uint8, rest []byte, ok bool) {
	d, ok := ParseDirent(b)
	if !ok {
		return "", 0, nil, false
	}
	return d.Name, d.Type, b[d.Len:], true
}

// fileID is what the walk needs to know of an open directory.
type fileID struct {
	dev, ino  uint64
	mode      uint32
	mountRoot bool
}

func statFD(fd int) (fileID, error) {
	var stx unix.Statx_t
	err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE|unix.STATX_MODE|unix.STATX_INO, &stx)
	if err != nil {
		return fileID{}, err
	}
	return fileID{
		dev:       unix.Mkdev(stx.Dev_major, stx.Dev_minor),
		ino:       stx.Ino,
		mode:      uint32(stx.Mode),
		mountRoot: stx.Attributes_mask&stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0,
	}, nil
}
