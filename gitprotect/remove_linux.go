package gitprotect

import (
	"golang.org/x/sys/unix"
)

// removeAll removes name from dir: a file, a symlink (never followed) or a
// whole directory tree. It reports whether something was there.
func removeAll(dir int, name string) (bool, error) {
	err := unix.Unlinkat(dir, name, 0)
	switch err {
	case nil:
		return true, nil
	case unix.ENOENT:
		return false, nil
	case unix.EISDIR:
	default:
		return false, err
	}
	st, err := lstatAt(dir, name)
	if err != nil {
		return false, err
	}
	fd, err := openChildDir(dir, name, idOf(&st))
	if err != nil {
		return false, err
	}
	err = clearDir(fd)
	unix.Close(fd)
	if err != nil {
		return false, err
	}
	return true, unix.Unlinkat(dir, name, unix.AT_REMOVEDIR)
}

type removeFrame struct {
	name string // in the parent
	id   fileID
	todo []string
}

// clearDir empties the directory dir, however deep its tree, holding two
// descriptors at most besides dir: it goes down by name and back up by "..",
// checking each directory's identity on the way up.
func clearDir(dir int) error {
	cur, err := unix.FcntlInt(uintptr(dir), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer func() { unix.Close(cur) }()
	id, err := fstatID(cur)
	if err != nil {
		return err
	}
	names, err := readNames(cur)
	if err != nil {
		return err
	}
	stack := []removeFrame{{id: id, todo: names}}
	for {
		top := &stack[len(stack)-1]
		if len(top.todo) == 0 {
			if len(stack) == 1 {
				return nil
			}
			parent := stack[len(stack)-2]
			up, err := openParent(cur, parent.id)
			if err != nil {
				return err
			}
			unix.Close(cur)
			cur = up
			name := top.name
			stack = stack[:len(stack)-1]
			if err := unix.Unlinkat(cur, name, unix.AT_REMOVEDIR); err != nil {
				return err
			}
			continue
		}
		name := top.todo[0]
		top.todo = top.todo[1:]
		err := unix.Unlinkat(cur, name, 0)
		if err == nil || err == unix.ENOENT {
			continue
		}
		if err != unix.EISDIR {
			return err
		}
		st, err := lstatAt(cur, name)
		if err != nil {
			return err
		}
		down, err := openChildDir(cur, name, idOf(&st))
		if err != nil {
			return err
		}
		names, err := readNames(down)
		if err != nil {
			unix.Close(down)
			return err
		}
		unix.Close(cur)
		cur = down
		stack = append(stack, removeFrame{name: name, id: idOf(&st), todo: names})
	}
}
