package rootfs

import (
	"path/filepath"
	"strings"

	"github.com/sbx-sandbox/sbx/spec"
)

// writableArea is a host directory the command can write through: the
// workdir, or a read-write --bind. host is its path on the host (the
// workdir's with symlinks resolved), given the path the caller named it by,
// and target where it appears inside. Protections apply wherever an area
// shows what they protect.
type writableArea struct{ host, given, target string }

// real turns a host path named through the area's given path into one
// under its resolved path.
func (a writableArea) real(p string) string {
	if a.given != a.host && a.given != "/" && under(p, a.given) {
		return filepath.Join(a.host, strings.TrimPrefix(p, a.given))
	}
	return p
}

// inside is where host path p appears through the area, if it does.
func (a writableArea) inside(p string) (string, bool) {
	p = a.real(p)
	if a.host == "/" || !under(p, a.host) {
		return "", false
	}
	return filepath.Join(a.target, strings.TrimPrefix(p, a.host)), true
}

// workdirArea is the workdir: resolved on the host, at the caller's path
// inside.
func (b *builder) workdirArea() writableArea {
	s := b.in.Spec
	host := s.WorkdirSource
	if host == "" {
		host = s.Workdir
	}
	// Mounted at its resolved path: the symlinks on the caller's path are
	// the host's, shown inside too, and lead there, even where the path
	// they lead to is one the sandbox replaces (a workdir under /tmp
	// reached from ~/link). The command starts at the caller's path. Where
	// that path itself lies in something the sandbox makes new (/tmp, an
	// emptied home), its symlinks are not shown: it is made a directory
	// and the workdir mounted there.
	target := host
	if b.underReplaced(s.Workdir) || underAny(s.Workdir, b.emptiedHomes()) {
		target = s.Workdir
	}
	return writableArea{host: host, given: s.Workdir, target: target}
}

// writableAreas are the workdir, then the read-write binds in order.
func (b *builder) writableAreas() []writableArea {
	areas := []writableArea{b.workdirArea()}
	for _, m := range b.in.Spec.Mounts {
		if m.Kind == spec.MountBind {
			areas = append(areas, writableArea{host: m.Source, given: m.Source, target: m.Target})
		}
	}
	return areas
}

// writableBefore counts the read-write binds before the i-th mount.
func writableBefore(mounts []spec.Mount, i int) int {
	n := 0
	for _, m := range mounts[:i] {
		if m.Kind == spec.MountBind {
			n++
		}
	}
	return n
}
