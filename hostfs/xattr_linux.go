package hostfs

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// hiddenXattr reports the names the view never passes on: overlayfs reads
// its own (opaque, redirect, whiteout...) from its layers, so one set on a
// host file the caller owns would change what the sandbox sees.
func hiddenXattr(name string) bool {
	return strings.HasPrefix(name, "user.overlay.") || strings.HasPrefix(name, "trusted.overlay.")
}

// xattrPath names the node's host object for the *xattr calls, which take
// no O_PATH descriptor: its /proc/self/fd link, followed to exactly the
// object opened. Symlinks have none here.
func (n *node) xattrPath() (string, func(), syscall.Errno) {
	if n.empty || n.st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return "", nil, syscall.ENODATA
	}
	fd, e := n.openSelf(unix.O_PATH)
	if e != 0 {
		return "", nil, e
	}
	return "/proc/self/fd/" + strconv.Itoa(fd), func() { unix.Close(fd) }, 0
}

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if hiddenXattr(attr) {
		return 0, syscall.ENODATA
	}
	p, done, e := n.xattrPath()
	if e != 0 {
		return 0, e
	}
	defer done()
	sz, err := unix.Getxattr(p, attr, dest)
	if err == unix.ERANGE {
		// Too small a buffer: say the size it takes.
		sz, err = unix.Getxattr(p, attr, nil)
		if err == nil {
			return uint32(sz), syscall.ERANGE
		}
	}
	if err != nil {
		return 0, errno(err)
	}
	return uint32(sz), 0
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	p, done, e := n.xattrPath()
	if e == syscall.ENODATA {
		return 0, 0
	}
	if e != 0 {
		return 0, e
	}
	defer done()
	sz, err := unix.Listxattr(p, nil)
	if err != nil {
		return 0, errno(err)
	}
	buf := make([]byte, sz)
	sz, err = unix.Listxattr(p, buf)
	if err != nil {
		return 0, errno(err)
	}
	var kept []byte
	for _, name := range bytes.Split(buf[:sz], []byte{0}) {
		if len(name) > 0 && !hiddenXattr(string(name)) {
			kept = append(append(kept, name...), 0)
		}
	}
	if len(dest) == 0 {
		return uint32(len(kept)), 0
	}
	if len(dest) < len(kept) {
		return uint32(len(kept)), syscall.ERANGE
	}
	return uint32(copy(dest, kept)), 0
}
