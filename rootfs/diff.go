package rootfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Change is one path the run changed outside its binds.
type Change struct {
	Path string `json:"path"`
	Kind string `json:"kind"` // added, modified, deleted, unreadable
}

// Whiteouts as overlayfs writes them: a 0/0 character device (kernel) or a
// ".wh." file (fuse-overlayfs without mknod); an opaque directory carries an
// xattr or a ".wh..wh..opq" file.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

var opaqueXattrs = []string{"user.overlay.opaque", "trusted.overlay.opaque", "user.fuseoverlayfs.opaque"}

// Changes lists what each layer's upper directory holds, named by the path
// inside the sandbox, sorted.
func Changes(layers []Layer) []Change {
	var out []Change
	for _, l := range layers {
		out = append(out, layerChanges(l)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// QuotePath is p as --diff prints it: unchanged when it is printable
// (valid UTF-8, no control or format characters) and holds no backslash or
// double quote, else Go-quoted. The command chooses the names: a newline
// must not forge a second line, an escape sequence must not reach the
// terminal.
func QuotePath(p string) string {
	if !utf8.ValidString(p) {
		return strconv.Quote(p)
	}
	for _, r := range p {
		if r == '\\' || r == '"' || !strconv.IsPrint(r) {
			return strconv.Quote(p)
		}
	}
	return p
}

// Changes is the package's Changes with each upper directory reached from
// the state's own descriptors: with --keep, DIR's name may have been
// replaced by the command, so it is not looked up again.
func (s *State) Changes(layers []Layer) []Change {
	if s.Keep == nil || s.Keep.fd < 0 {
		return Changes(layers)
	}
	return ChangesIn(s.Keep.fd, layers)
}

// KeepFD is the descriptor of --keep DIR, or -1.
func (s *State) KeepFD() int {
	if s.Keep == nil {
		return -1
	}
	return s.Keep.fd
}

// ChangesIn is Changes for layers kept in the --keep directory keep (a
// descriptor), each upper directory reached from it.
func ChangesIn(keep int, layers []Layer) []Change {
	var out []Change
	for _, l := range layers {
		out = append(out, layerChangesAt(l, func() (int, error) {
			u, err := openDirAt(keep, "upper")
			if err != nil {
				return -1, err
			}
			defer unix.Close(u)
			return openDirAt(u, filepath.Base(l.Upper))
		})...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Unreadable reports whether changes hold a directory the walk could not
// enter.
func Unreadable(changes []Change) bool {
	for _, c := range changes {
		if c.Kind == "unreadable" {
			return true
		}
	}
	return false
}

func layerChanges(l Layer) []Change {
	return layerChangesAt(l, func() (int, error) { return openDirAt(unix.AT_FDCWD, l.Upper) })
}

// layerChangesAt walks the upper directory that open returns, a descriptor
// taken without following a symlink in its place; below it, WalkDir
// follows none.
func layerChangesAt(l Layer, open func() (int, error)) []Change {
	fd, err := open()
	if err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return []Change{{Path: l.Target, Kind: "unreadable"}}
	}
	defer unix.Close(fd)
	root := "/proc/self/fd/" + strconv.Itoa(fd) + "/."
	var out []Change
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		inside := filepath.Join(l.Target, rel)
		lower := filepath.Join(l.Lower, rel)
		if err != nil {
			if d != nil && d.IsDir() {
				out = append(out, Change{Path: inside, Kind: "unreadable"})
				return fs.SkipDir
			}
			return nil
		}
		if rel == "." {
			// The layer's own root: made with the host directory's
			// mode (MakeLayers), so a chmod of the layer's target shows.
			if lfi, err := os.Lstat(lower); err == nil && l.Target != "/" && modeChanged(d, lfi) {
				out = append(out, Change{Path: inside, Kind: "modified"})
			}
			return nil
		}
		name := d.Name()
		if name == opaqueMarker {
			return nil
		}
		if strings.HasPrefix(name, whiteoutPrefix) {
			out = append(out, Change{Path: filepath.Join(filepath.Dir(inside), strings.TrimPrefix(name, whiteoutPrefix)), Kind: "deleted"})
			return nil
		}
		if isWhiteout(p, d) {
			out = append(out, Change{Path: inside, Kind: "deleted"})
			return nil
		}
		lfi, lerr := os.Lstat(lower)
		existed := lerr == nil
		switch {
		case !existed:
			out = append(out, Change{Path: inside, Kind: "added"})
		case d.IsDir() && (isOpaque(p) || modeChanged(d, lfi)):
			out = append(out, Change{Path: inside, Kind: "modified"})
		case d.IsDir():
			// Copied up only because something below it changed: the
			// copy keeps the host directory's mode.
		default:
			out = append(out, Change{Path: inside, Kind: "modified"})
		}
		return nil
	})
	return out
}

// modeChanged reports whether a directory of the upper layer has another
// mode than the host's (a chmod inside). Owners are not compared: the copy
// holds them as the sandbox's ids map them, not the host's.
func modeChanged(d fs.DirEntry, host fs.FileInfo) bool {
	fi, err := d.Info()
	if err != nil {
		return false
	}
	const kept = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	return fi.Mode()&kept != host.Mode()&kept
}

func isWhiteout(p string, d fs.DirEntry) bool {
	if d.Type()&fs.ModeCharDevice == 0 {
		return false
	}
	var st unix.Stat_t
	return unix.Lstat(p, &st) == nil && st.Rdev == 0
}

func isOpaque(dir string) bool {
	if _, err := os.Lstat(filepath.Join(dir, opaqueMarker)); err == nil {
		return true
	}
	buf := make([]byte, 8)
	for _, x := range opaqueXattrs {
		if n, err := unix.Lgetxattr(dir, x, buf); err == nil && n > 0 && buf[0] == 'y' {
			return true
		}
	}
	return false
}
