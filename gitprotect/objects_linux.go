package gitprotect

import (
	"path"

	"golang.org/x/sys/unix"
)

// The object store (G/objects) is the host's, bound read-write inside, so
// that fetches and commits write in place rather than being copied back.
// Nothing in it makes git run code, but git writes new objects into its
// subdirectories (objects/ab/, pack/, info/) and would follow a symlink the
// command put there, writing outside the repository. CleanObjects removes
// such symlinks, and anything else that is not a plain file or directory,
// from the top of the store once the run is over.
func CleanObjects(hostDir int) []Refusal {
	fd, err := openBeneath(hostDir, "objects", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil // no store, or not a directory: nothing bound
	}
	defer unix.Close(fd)
	names, err := readNames(fd)
	if err != nil {
		return []Refusal{{Path: "objects", Reason: "cannot list: " + err.Error()}}
	}
	var refused []Refusal
	for _, name := range names {
		st, err := lstatAt(fd, name)
		if err != nil {
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR, unix.S_IFREG:
			continue
		}
		rel := path.Join("objects", name)
		if err := unix.Unlinkat(fd, name, 0); err != nil {
			refused = append(refused, Refusal{Path: rel, Reason: "not a file or directory, and could not be removed: " + err.Error()})
			continue
		}
		refused = append(refused, Refusal{Path: rel, Reason: "removed: not a file or directory (git would write through it)"})
	}
	return refused
}
