package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// KeepDir is --keep DIR, opened once when the state is made. The command
// can write where DIR's name lives (DIR may sit in the workdir) and what
// the layers moved into DIR hold, so after the run everything goes through
// this descriptor with *at calls that follow no symlink: the name DIR is
// never looked up again.
type KeepDir struct {
	fd   int
	path string // for messages only
}

// OpenKeep creates DIR (mode 0700) if it is missing and opens it; it must
// be a directory, not a symbolic link to one, and empty.
func OpenKeep(path string) (*KeepDir, error) {
	// Clean drops a trailing slash, which would make the kernel follow a
	// symlink despite O_NOFOLLOW.
	return OpenKeepIn(unix.AT_FDCWD, filepath.Clean(path), path)
}

// OpenKeepIn is OpenKeep for the entry name of the directory parent, for a
// DIR whose parent directories the command could have written (the caller
// opened parent without following symlinks).
func OpenKeepIn(parent int, name, path string) (*KeepDir, error) {
	clean := name
	if err := unix.Mkdirat(parent, clean, 0o700); err != nil && err != unix.EEXIST {
		return nil, fmt.Errorf("--keep %s: %w", path, err)
	}
	fd, err := openDirAt(parent, clean)
	switch err {
	case nil:
	case unix.ELOOP:
		return nil, fmt.Errorf("--keep %s: is a symbolic link; give the directory itself", path)
	case unix.ENOTDIR:
		return nil, fmt.Errorf("--keep %s: must be a new or empty directory", path)
	default:
		return nil, fmt.Errorf("--keep %s: %w", path, err)
	}
	names, err := dirNames(fd)
	if err != nil || len(names) > 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("--keep %s: must be a new or empty directory", path)
	}
	return &KeepDir{fd: fd, path: path}, nil
}

// Fd is the descriptor of DIR, for a removal retried in a user namespace
// (see RemoveStateIn); it stays owned by k.
func (k *KeepDir) Fd() int { return k.fd }

// Close releases the descriptor.
func (k *KeepDir) Close() error {
	if k.fd < 0 {
		return nil
	}
	err := unix.Close(k.fd)
	k.fd = -1
	return err
}

// FinishKeep turns a --keep state directory into what the user asked for:
// the run's upper layers at the paths they cover (DIR/etc holds what changed
// under /etc, whiteouts included), and nothing else. Every process of the
// run must be gone. A symlink in the way (a layer's own directory, or one
// the root layer put at DIR/usr) is refused, never followed.
func FinishKeep(s *State, layers []Layer) error {
	k := s.Keep
	if k == nil || k.fd < 0 {
		return errors.New("not a --keep state")
	}
	for _, n := range []string{"root", "host", "work", "files", "var-tmp", "lock"} {
		if err := RemoveTreeAt(k.fd, n); err != nil {
			return fmt.Errorf("remove %s: %w", k.name(n), err)
		}
	}
	// Out of the way first: a host directory named /upper would land on
	// DIR/upper itself.
	hidden, err := k.hideUpper()
	if err != nil {
		return err
	}
	ufd, err := openDirAt(k.fd, hidden)
	if err != nil {
		return fmt.Errorf("%s: %w", k.name("upper"), symlinkErr(err))
	}
	defer unix.Close(ufd)
	for _, l := range layers {
		if err := k.place(ufd, filepath.Base(l.Upper), l.Target); err != nil {
			return err
		}
	}
	return RemoveTreeAt(k.fd, hidden)
}

// hideUpper renames DIR/upper to a fresh hidden name and returns it.
func (k *KeepDir) hideUpper() (string, error) {
	for i := 0; ; i++ {
		name := fmt.Sprintf(".layers-%d-%d", unix.Getpid(), i)
		err := renameNoReplace(k.fd, "upper", k.fd, name)
		if err == nil {
			return name, nil
		}
		if err != unix.EEXIST || i == 100 {
			return "", fmt.Errorf("move %s aside: %w", k.name("upper"), err)
		}
	}
}

// place moves the layer directory name in ufd to target inside DIR; for
// the root's layer its entries move into DIR itself.
func (k *KeepDir) place(ufd int, name, target string) error {
	if name == "." || name == ".." || name == "/" || strings.Contains(name, "/") {
		return fmt.Errorf("upper layer %q: not a layer name", name)
	}
	lfd, err := openDirAt(ufd, name)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return fmt.Errorf("upper layer %s of %s: %w", name, target, symlinkErr(err))
	}
	defer unix.Close(lfd)
	entries, err := dirNames(lfd)
	if err != nil {
		return fmt.Errorf("upper layer %s of %s: %w", name, target, err)
	}
	if len(entries) == 0 {
		return ignoreENOENT(unix.Unlinkat(ufd, name, unix.AT_REMOVEDIR))
	}
	parts, err := targetParts(target)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		// The root's layer is DIR itself: its entries move there one by
		// one (first in the list, so nothing is there yet).
		for _, e := range entries {
			if err := renameNoReplace(lfd, e, k.fd, e); err != nil {
				return fmt.Errorf("move %s into %s: %w", e, k.path, err)
			}
		}
		return nil
	}
	dfd, err := k.mkdirs(parts[:len(parts)-1])
	if err != nil {
		return err
	}
	if dfd != k.fd {
		defer unix.Close(dfd)
	}
	dst := k.name(parts...)
	if err := moveDir(ufd, name, dfd, parts[len(parts)-1]); err != nil {
		return fmt.Errorf("move the layer of %s to %s: %w", target, dst, err)
	}
	return nil
}

// mkdirs makes and opens DIR/parts..., one component at a time, refusing a
// symlink or a non-directory on the way. The result is k.fd for no parts.
func (k *KeepDir) mkdirs(parts []string) (int, error) {
	fd := k.fd
	for i, p := range parts {
		if err := unix.Mkdirat(fd, p, 0o755); err != nil && err != unix.EEXIST {
			k.closeNot(fd)
			return -1, fmt.Errorf("mkdir %s: %w", k.name(parts[:i+1]...), err)
		}
		next, err := openDirAt(fd, p)
		k.closeNot(fd)
		if err != nil {
			return -1, fmt.Errorf("%s: %w; not writing through it", k.name(parts[:i+1]...), symlinkErr(err))
		}
		fd = next
	}
	return fd, nil
}

func (k *KeepDir) closeNot(fd int) {
	if fd != k.fd {
		unix.Close(fd)
	}
}

// name is DIR/parts as the user wrote DIR, for messages.
func (k *KeepDir) name(parts ...string) string {
	return filepath.Join(append([]string{k.path}, parts...)...)
}

// targetParts splits a layer's target ("/usr/local") into its names.
func targetParts(target string) ([]string, error) {
	clean := filepath.Clean(target)
	if !filepath.IsAbs(target) || clean != target {
		return nil, fmt.Errorf("layer target %q: not a clean absolute path", target)
	}
	if clean == "/" {
		return nil, nil
	}
	return strings.Split(clean[1:], "/"), nil
}

// moveDir renames a directory without clobbering anything but an empty
// directory, as rename(2) would replace.
func moveDir(from int, name string, to int, newName string) error {
	err := renameNoReplace(from, name, to, newName)
	if err != unix.EEXIST {
		return err
	}
	fd, oerr := openDirAt(to, newName)
	if oerr != nil {
		return err
	}
	names, lerr := dirNames(fd)
	unix.Close(fd)
	if lerr != nil || len(names) > 0 {
		return err
	}
	if err := unix.Unlinkat(to, newName, unix.AT_REMOVEDIR); err != nil {
		return err
	}
	return renameNoReplace(from, name, to, newName)
}

// renameNoReplace is renameat2(RENAME_NOREPLACE), with a check first on a
// file system that lacks the flag (the run is over: nothing races it).
func renameNoReplace(from int, name string, to int, newName string) error {
	err := unix.Renameat2(from, name, to, newName, unix.RENAME_NOREPLACE)
	if err != unix.EINVAL {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(to, newName, &st, unix.AT_SYMLINK_NOFOLLOW); err != unix.ENOENT {
		if err == nil {
			return unix.EEXIST
		}
		return err
	}
	return unix.Renameat(from, name, to, newName)
}

// openDirAt opens the directory name in dir without following a symlink;
// a symlink gives ELOOP (O_DIRECTORY alone would say ENOTDIR).
func openDirAt(dir int, name string) (int, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ENOTDIR {
		var st unix.Stat_t
		if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			err = unix.ELOOP
		}
	}
	return fd, err
}

// symlinkErr words ELOOP from an O_NOFOLLOW open for people.
func symlinkErr(err error) error {
	if err == unix.ELOOP {
		return errors.New("is a symbolic link")
	}
	return err
}
