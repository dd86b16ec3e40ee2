package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// inRoot resolves paths inside the new root without ever leaving it: a
// symlink planted in a bound directory (runc CVE-2021-30465) is followed as
// if the new root were /, never out of it.
type inRoot struct {
	dir string
	fd  int
}

func openRoot(dir string) (*inRoot, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open new root %s: %w", dir, err)
	}
	return &inRoot{dir: dir, fd: fd}, nil
}

func (r *inRoot) close() { unix.Close(r.fd) }

// open resolves p inside the root and returns an O_PATH descriptor.
func (r *inRoot) open(p string, flags uint64) (int, error) {
	rel := strings.TrimPrefix(filepath.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{
		Flags:   flags | unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(r.fd, rel, how)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// procPath names an O_PATH descriptor so mount(2) can use it as a target.
func procPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// mkdirAll creates directory p and its parents inside the root with mode
// for the ones it creates, and returns a descriptor of it.
func (r *inRoot) mkdirAll(p string, mode uint32) (int, error) {
	fd, err := r.open(p, unix.O_DIRECTORY)
	if err == nil {
		return fd, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("resolve %s: %w", p, err)
	}
	parentFD, err := r.mkdirAll(filepath.Dir(p), 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(parentFD)
	name := filepath.Base(p)
	if err := unix.Mkdirat(parentFD, name, mode); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("mkdir %s: %w", p, err)
	}
	// mkdir applies the umask; set the mode the plan asked for.
	fd, err = r.open(p, unix.O_DIRECTORY)
	if err != nil {
		return -1, fmt.Errorf("resolve %s: %w", p, err)
	}
	if err := unix.Fchmodat(parentFD, name, mode, 0); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("chmod %s: %w", p, err)
	}
	return fd, nil
}

// mkfile creates an empty file p (and its parents) inside the root, for a
// file to be mounted over, and returns a descriptor of it.
func (r *inRoot) mkfile(p string, mode uint32) (int, error) {
	fd, err := r.open(p, 0)
	if err == nil {
		return fd, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("resolve %s: %w", p, err)
	}
	parentFD, err := r.mkdirAll(filepath.Dir(p), 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(parentFD)
	f, err := unix.Openat(parentFD, filepath.Base(p), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("create %s: %w", p, err)
	}
	if err == nil {
		unix.Close(f)
	}
	return r.open(p, 0)
}

// parent returns a descriptor of p's parent directory (created if needed)
// and p's last element.
func (r *inRoot) parent(p string) (int, string, error) {
	fd, err := r.mkdirAll(filepath.Dir(p), 0o755)
	return fd, filepath.Base(p), err
}
