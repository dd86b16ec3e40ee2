package gitprotect

import (
	"io/fs"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// A submodule's git directory (modules/NAME) holds hooks of its own. They
// stay read-only inside, and the merge must not remove them by the back
// door either: by emptying or removing a directory that holds them, or by
// putting a file in its place.

// dirHoldsHooks reports whether the host's entry name in the current host
// directory is a directory with a `hooks` directory anywhere below it.
func (m *merger) dirHoldsHooks(name string) bool {
	st, err := lstatAt(m.host, name)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false
	}
	fd, err := openChildDir(m.host, name, idOf(&st))
	if err != nil {
		return true // cannot tell: keep it
	}
	defer unix.Close(fd)
	return holdsHooks(fd)
}

// holdsHooks walks the directory fd, following no symlink; any error
// (a tree too deep to walk) counts as holding hooks, which keeps it.
func holdsHooks(fd int) bool {
	found := false
	// The trailing "/." makes WalkDir start in the directory the magic
	// link names; it follows no symlink below.
	root := "/proc/self/fd/" + strconv.Itoa(fd) + "/."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && d.IsDir() && d.Name() == "hooks" {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found || err != nil
}
