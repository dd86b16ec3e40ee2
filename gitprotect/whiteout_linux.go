package gitprotect

import (
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Overlay marks in an upper directory. Kernel overlayfs writes a 0/0
// character device for a removed file; fuse-overlayfs writes `.wh.NAME`.
const (
	whiteoutPfx = ".wh."
	// opaqueMarker is fuse-overlayfs's mark of an opaque directory.
	opaqueMarker = ".wh..wh..opq"
)

// opaqueXattrs mark a directory that hides the lower one's contents: kernel
// overlayfs as root, as an unprivileged user (userxattr), and fuse-overlayfs.
var opaqueXattrs = []string{"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"}

// whiteout removes name, a file or a whole tree, from the host directory.
func (m *merger) whiteout(name, rel string) {
	switch {
	case name == "" || name == "." || name == ".." || strings.ContainsRune(name, '\n'):
		m.refuse(rel, "bad whiteout name")
		return
	case name == "hooks":
		m.refuse(rel, "hooks: removing hooks is refused too")
		return
	case inProgressState[name]:
		m.refuse(rel, "the state of an interrupted rebase, cherry-pick or am is left as the host has it")
		return
	case slices.Contains(m.opts.KeepHost, rel):
		m.refuse(rel, "the host's config includes this file: left as the host has it")
		return
	}
	if m.changedOnHost(name) {
		m.refuse(rel, changedMeanwhile)
		return
	}
	if m.dirHoldsHooks(name) {
		m.refuse(rel, "not removed: it holds hooks, which stay")
		return
	}
	removed, err := removeAll(m.host, name)
	if err != nil {
		m.refuse(rel, "remove: "+err.Error())
		return
	}
	if removed {
		m.res.Applied++
	}
}

func isOpaque(dir int, names []string, fuse bool) bool {
	for _, n := range names {
		if n == opaqueMarker && fuse {
			return true
		}
	}
	buf := make([]byte, 8)
	for _, attr := range opaqueXattrs {
		n, err := unix.Fgetxattr(dir, attr, buf)
		// Any error reads as "not opaque": host files are then kept,
		// which only keeps more, never runs code.
		if err == nil && string(buf[:n]) == "y" {
			return true
		}
	}
	return false
}
