package gitprotect

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Refusal is one change of the sandbox's git dir that was not applied.
type Refusal struct {
	Path   string // relative to the git dir
	Key    string // the config key, for a refused config entry
	Reason string
}

// Result tells what MergeBack did.
type Result struct {
	Refused []Refusal
	Applied int // files written, directories made, entries removed
}

const (
	// maxPathLen bounds the paths merged: git itself cannot use longer.
	maxPathLen = unix.PathMax - 1
	maxNameLen = 255
)

// MergeBack applies the changes recorded in upperDir, the overlay's upper
// directory over a git dir, to hostDir, the host's git dir. Both are
// directory descriptors opened before the command ran; upperDir's content
// is hostile. Nothing is followed through a symlink, descriptors stay few
// however deep the tree, and code-running state is refused, not applied
// (see Refusal). The error is for failures that stop the whole merge.
func MergeBack(upperDir, hostDir int) (Result, error) {
	return MergeBackWith(upperDir, hostDir, Options{})
}

// Options adjust MergeBack to the run.
type Options struct {
	// Since, when set, is the run's start: a host file or entry whose
	// inode changed status after it (ctime, which no one can set back)
	// was written meanwhile by the host's git or another run, and
	// overwriting it would lose that change silently. Such a change of
	// the run's is refused, with the reason.
	Since time.Time
	// FuseWhiteouts says the upper directory is fuse-overlayfs's, whose
	// whiteouts are `.wh.NAME` files and whose opaque directories hold a
	// `.wh..wh..opq` file. Under kernel overlayfs such names are plain
	// files the command made, and are merged as such.
	FuseWhiteouts bool
	// KeepHost are paths in the git dir (relative to it) left as the
	// host has them, whatever the run did there: config files the
	// host's config includes.
	KeepHost []string
}

// MergeBackWith is MergeBack with options.
func MergeBackWith(upperDir, hostDir int, o Options) (Result, error) {
	m := &merger{upper: -1, host: -1, opts: o}
	for _, fd := range []int{upperDir, hostDir} {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return Result{}, fmt.Errorf("gitprotect: merge: descriptor %d: %w", fd, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return Result{}, fmt.Errorf("gitprotect: merge: descriptor %d is not a directory", fd)
		}
	}
	var err error
	if m.upper, err = unix.FcntlInt(uintptr(upperDir), unix.F_DUPFD_CLOEXEC, 0); err != nil {
		return Result{}, fmt.Errorf("gitprotect: merge: %w", err)
	}
	if m.host, err = unix.FcntlInt(uintptr(hostDir), unix.F_DUPFD_CLOEXEC, 0); err != nil {
		return Result{}, fmt.Errorf("gitprotect: merge: %w", err)
	}
	if err := m.walk(); err != nil {
		return m.res, fmt.Errorf("gitprotect: merge: %w", err)
	}
	return m.res, nil
}

type merger struct {
	res         Result
	upper, host int // the directories being merged now
	stack       []mergeFrame
	opts        Options
	// interrupted is set when the command left a rebase, cherry-pick or
	// am in progress, whose state is not taken back: neither are the
	// files that say where it stopped, so the host stays where it was.
	interrupted bool
}

// stopPoint are the files of the top of a git dir that an operation in
// progress moves (HEAD detached on the commit it stopped at, the index
// with its conflicts, the heads it records).
var stopPoint = map[string]bool{"HEAD": true, "ORIG_HEAD": true, "REBASE_HEAD": true, "CHERRY_PICK_HEAD": true,
	"REVERT_HEAD": true, "MERGE_HEAD": true, "MERGE_MSG": true, "MERGE_MODE": true, "AUTO_MERGE": true, "index": true}

// changedOnHost reports whether the host's entry name changed since the
// run started (see Options.Since).
func (m *merger) changedOnHost(name string) bool {
	if m.opts.Since.IsZero() {
		return false
	}
	st, err := lstatAt(m.host, name)
	if err != nil {
		return false
	}
	return !time.Unix(st.Ctim.Sec, st.Ctim.Nsec).Before(m.opts.Since)
}

type mergeFrame struct {
	name        string // in the parent
	path        string // relative to the git dir, "" at the top
	upper, host fileID
	todo        []string
}

func (m *merger) close() {
	for _, fd := range []int{m.upper, m.host} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

func (m *merger) refuse(path, reason string) {
	m.res.Refused = append(m.res.Refused, Refusal{Path: path, Reason: reason})
}

func (m *merger) walk() error {
	upperID, err := fstatID(m.upper)
	if err != nil {
		return err
	}
	hostID, err := fstatID(m.host)
	if err != nil {
		return err
	}
	names, err := readNames(m.upper)
	if err != nil {
		return err
	}
	// The top is never taken as opaque: that would clear objects, refs and
	// logs, which were bound straight from the host and so are not in the
	// upper.
	for _, n := range names {
		if inProgressState[n] {
			m.interrupted = true
		}
	}
	m.stack = []mergeFrame{{upper: upperID, host: hostID, todo: sortWhiteoutsFirst(names)}}
	for {
		top := &m.stack[len(m.stack)-1]
		if len(top.todo) == 0 {
			if len(m.stack) == 1 {
				return nil
			}
			if err := m.ascend(); err != nil {
				return err
			}
			continue
		}
		name := top.todo[0]
		top.todo = top.todo[1:]
		if err := m.entry(name, joinPath(top.path, name)); err != nil {
			return err
		}
	}
}

// sortWhiteoutsFirst orders a directory's names so that `.wh.X` comes
// before X: should both be there, the upper's X wins.
func sortWhiteoutsFirst(names []string) []string {
	sort.Slice(names, func(i, j int) bool {
		wi, wj := strings.HasPrefix(names[i], whiteoutPfx), strings.HasPrefix(names[j], whiteoutPfx)
		if wi != wj {
			return wi
		}
		return names[i] < names[j]
	})
	return names
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// entry merges one name of the current upper directory. Only a failure
// that leaves the walk lost is returned; the rest is refused and listed.
func (m *merger) entry(name, rel string) error {
	switch {
	case len(rel) > maxPathLen:
		m.refuse(rel, "path too long")
		return nil
	case strings.ContainsRune(name, '\n'):
		m.refuse(rel, "name contains a newline")
		return nil
	case len(name) > maxNameLen:
		m.refuse(rel, "name longer than 255 bytes")
		return nil
	case name == opaqueMarker && m.opts.FuseWhiteouts:
		return nil // read with its directory
	case name == "hooks":
		m.refuse(rel, "hooks: new hooks never reach the host")
		return nil
	case slices.Contains(m.opts.KeepHost, rel):
		m.refuse(rel, "the host's config includes this file: left as the host has it")
		return nil
	case m.interrupted && len(m.stack) == 1 && stopPoint[name]:
		m.refuse(rel, "left as the host has it: the command left a rebase, cherry-pick or am unfinished, which stays inside")
		return nil
	case inProgressState[name]:
		m.refuse(rel, "the state of an interrupted rebase, cherry-pick or am never reaches the host: `git rebase --continue` there would act on what the command wrote (a merge strategy is a program)")
		return nil
	}
	st, err := lstatAt(m.upper, name)
	if err != nil {
		m.refuse(rel, err.Error())
		return nil
	}
	if target, ok := strings.CutPrefix(name, whiteoutPfx); ok && m.opts.FuseWhiteouts {
		m.whiteout(target, joinPath(m.stack[len(m.stack)-1].path, target))
		return nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		m.file(name, rel, &st)
	case unix.S_IFDIR:
		return m.descend(name, rel, &st)
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			m.whiteout(name, rel)
		} else {
			m.refuse(rel, "device node")
		}
	case unix.S_IFBLK:
		m.refuse(rel, "device node")
	case unix.S_IFLNK:
		m.refuse(rel, "symlink")
	case unix.S_IFIFO:
		m.refuse(rel, "fifo")
	case unix.S_IFSOCK:
		m.refuse(rel, "socket")
	default:
		m.refuse(rel, "unknown file type")
	}
	return nil
}

// descend makes the host's side of directory name and enters both.
func (m *merger) descend(name, rel string, st *unix.Stat_t) error {
	ufd, err := openChildDir(m.upper, name, idOf(st))
	if err != nil {
		m.refuse(rel, err.Error())
		return nil
	}
	names, err := readNames(ufd)
	if err != nil {
		unix.Close(ufd)
		m.refuse(rel, err.Error())
		return nil
	}
	opaque := isOpaque(ufd, names, m.opts.FuseWhiteouts)
	if opaque && m.keepsUnder(rel) {
		m.refuse(rel, "not emptied: the host's config includes a file in it")
		opaque = false
	}
	hfd, err := m.hostDir(name, opaque, uint32(st.Mode))
	if err != nil {
		unix.Close(ufd)
		m.refuse(rel, err.Error())
		return nil
	}
	hostID, err := fstatID(hfd)
	if err != nil {
		unix.Close(ufd)
		unix.Close(hfd)
		return err
	}
	unix.Close(m.upper)
	unix.Close(m.host)
	m.upper, m.host = ufd, hfd
	m.stack = append(m.stack, mergeFrame{name: name, path: rel, upper: idOf(st), host: hostID,
		todo: sortWhiteoutsFirst(names)})
	return nil
}

// hostDir opens, making it first if need be, the host's directory name. A
// non-directory there is replaced; an opaque upper empties it.
func (m *merger) hostDir(name string, opaque bool, mode uint32) (int, error) {
	st, err := lstatAt(m.host, name)
	switch {
	case err == unix.ENOENT:
	case err != nil:
		return -1, err
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		if err := unix.Unlinkat(m.host, name, 0); err != nil {
			return -1, err
		}
		m.res.Applied++
	default:
		fd, err := openChildDir(m.host, name, idOf(&st))
		if err != nil || !opaque {
			return fd, err
		}
		if holdsHooks(fd) {
			unix.Close(fd)
			return -1, errors.New("not emptied (opaque): it holds hooks, which stay")
		}
		if err := clearDir(fd); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("empty opaque directory: %w", err)
		}
		m.res.Applied++
		return fd, nil
	}
	// Owner access always: git on the host must be able to use it.
	if err := unix.Mkdirat(m.host, name, mode&0o777|0o700); err != nil {
		return -1, err
	}
	m.res.Applied++
	st, err = lstatAt(m.host, name)
	if err != nil {
		return -1, err
	}
	return openChildDir(m.host, name, idOf(&st))
}

func (m *merger) ascend() error {
	parent := m.stack[len(m.stack)-2]
	u, err := openParent(m.upper, parent.upper)
	if err != nil {
		return err
	}
	h, err := openParent(m.host, parent.host)
	if err != nil {
		unix.Close(u)
		return err
	}
	unix.Close(m.upper)
	unix.Close(m.host)
	m.upper, m.host = u, h
	m.stack = m.stack[:len(m.stack)-1]
	return nil
}

// inProgressState are the directories where git keeps an interrupted
// rebase, cherry-pick, revert or am. Their files are instructions for the
// next `--continue` (the todo list, the merge strategy to run, options in
// config syntax), so none of them is taken back.
var inProgressState = map[string]bool{"rebase-merge": true, "rebase-apply": true, "sequencer": true}

// keepsUnder reports whether a KeepHost path lies below rel.
func (m *merger) keepsUnder(rel string) bool {
	for _, k := range m.opts.KeepHost {
		if strings.HasPrefix(k, rel+"/") {
			return true
		}
	}
	return false
}
