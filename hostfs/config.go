// Package hostfs serves the host's file tree to the sandbox, read-only,
// over FUSE, with each file's owner as the sandbox should see it.
//
// The kernel cannot map the host's root into an unprivileged user
// namespace, so a kernel overlay of host directories shows root's files as
// nobody, and the command (root inside) may write none of them. As the lower
// layer of the root's overlay, this view shows them owned by root inside:
// every write then works, copied up into the caller's upper directory, and
// never reaches the host.
//
// The server runs in sbx's parent, outside every namespace, and every name
// it is asked for comes from the command: it follows no symlink (each name
// is opened from its directory's descriptor with O_NOFOLLOW, and checked to
// be the object it was looked up as), writes nothing, and never serves what the plan
// hides. Its tables hold only what the kernel still caches: they shrink on
// FORGET. Host files' extended attributes are not shown (see mountOptions).
package hostfs

import (
	"path/filepath"
	"strings"
)

// Config says what the view shows.
type Config struct {
	// Empty are host paths served as empty directories (or empty files),
	// their own entries and contents never read: what the sandbox replaces
	// (/proc, /tmp...) or hides (secrets, --hide).
	Empty []string `json:"empty,omitempty"`
	// Absent are host paths never served, not even listed: sbx's own state.
	Absent []string `json:"absent,omitempty"`
	// Owners maps host ids to the ids shown inside.
	Owners Owners `json:"owners"`
}

// Span is a range of ids that exist inside the sandbox.
type Span struct {
	Start, Count uint32
}

// Owners maps the host's uids and gids to those the sandbox shows: the
// caller's own to its id inside, any other id to itself where that id
// exists inside (root among them), and the rest to root, so that nothing
// shows as the overflow id nobody, which no one inside may change.
type Owners struct {
	CallerUID, CallerGID uint32 // host ids of the caller
	UID, GID             uint32 // the caller's ids inside
	UIDs, GIDs           []Span // the ids that exist inside
}

func (o Owners) uid(host uint32) uint32 { return mapID(host, o.CallerUID, o.UID, o.UIDs) }
func (o Owners) gid(host uint32) uint32 { return mapID(host, o.CallerGID, o.GID, o.GIDs) }

func mapID(host, caller, inside uint32, spans []Span) uint32 {
	if host == caller {
		return inside
	}
	for _, s := range spans {
		if host >= s.Start && host-s.Start < s.Count {
			return host
		}
	}
	return 0
}

// policy is what to do with one path.
type policy uint8

const (
	serve policy = iota
	empty
	absent
)

// rules is Config's paths as a tree of names from /, so a directory's node
// finds its children's policy without building paths.
type rules struct {
	policy policy
	sub    map[string]*rules
}

func newRules(c Config) *rules {
	top := &rules{}
	add := func(paths []string, p policy) {
		for _, path := range paths {
			if !filepath.IsAbs(path) {
				continue
			}
			rel := strings.TrimPrefix(filepath.Clean(path), "/")
			if rel == "" {
				continue // never hide the whole view
			}
			t := top
			for _, name := range strings.Split(rel, "/") {
				if t.sub == nil {
					t.sub = map[string]*rules{}
				}
				next := t.sub[name]
				if next == nil {
					next = &rules{}
					t.sub[name] = next
				}
				t = next
			}
			t.policy = max(t.policy, p)
		}
	}
	add(c.Empty, empty)
	add(c.Absent, absent)
	return top
}

// child is the rules of entry name; nil when there are none.
func (r *rules) child(name string) *rules {
	if r == nil {
		return nil
	}
	return r.sub[name]
}

func (r *rules) is(p policy) bool { return r != nil && r.policy == p }

// validName reports whether the kernel's name is one entry of a directory:
// never "", ".", "..", nor a name with a slash or a NUL.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00") && len(name) <= 255
}
