package cgdelegate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// evacuationLeaf is the child cgroup that a delegated cgroup's own
// processes (sbx, the shell that started it) move to when sbx must enable
// controllers there: the kernel passes controllers only from a cgroup that
// holds no processes itself ("no internal processes"). rootlesskit does the
// same, with the same name. The processes stay there after the run: later
// runs from the same shell find it and start beside it.
const evacuationLeaf = "init"

// NotDelegated says that the caller may not manage its own cgroup's
// subtree; Reason names what it may not write.
type NotDelegated struct {
	Cgroup string
	Reason error
}

func (e *NotDelegated) Error() string {
	return fmt.Sprintf("cgroup %s is not delegated to you (%v)", e.Cgroup, e.Reason)
}

// MissingControllers says that the delegated cgroup lacks controllers the
// limits need: its parent did not pass them on.
type MissingControllers struct {
	Cgroup  string
	Missing []string
	Have    []string
}

func (e *MissingControllers) Error() string {
	have := strings.Join(e.Have, " ")
	if have == "" {
		have = "none"
	}
	return fmt.Sprintf("cgroup %s has no %s controller (it has: %s)", e.Cgroup, strings.Join(e.Missing, ", "), have)
}

// Place chooses the cgroup under which a run's leaf goes, so that the leaf
// gets the controllers need, and returns its hierarchy path:
//   - when sbx's own cgroup is an evacuation leaf, the cgroup above it,
//     as though sbx were still there;
//   - the parent of sbx's own cgroup, when the caller may manage it and it
//     already passes those controllers to its children (a shell in a leaf
//     of a delegated subtree: the run's leaf goes beside it);
//   - else sbx's own cgroup, when it is delegated: its processes move to
//     a child leaf of their own (evacuationLeaf) and the controllers are
//     enabled for its children.
//
// Anything else is a NotDelegated or MissingControllers error.
func Place(host Host, h Hierarchy, need []string) (string, error) {
	own := h.Own
	if path.Base(own) == evacuationLeaf && own != h.MountRoot {
		// A run moved sbx here from the cgroup above, maybe one that
		// started at the same moment and is enabling the controllers
		// there now: that cgroup is the one to use, as it would be.
		parent := path.Dir(own)
		if Delegated(host, h.Dir(parent)) == nil {
			h.Own = parent
			return PlaceOwn(host, h, need)
		}
	}
	if own != h.MountRoot && own != "/" {
		parent := path.Dir(own)
		dir := h.Dir(parent)
		if Delegated(host, dir) == nil {
			if enabled, err := SubtreeControl(dir); err == nil && containsAll(enabled, need) {
				return parent, nil
			}
		}
	}
	return PlaceOwn(host, h, need)
}

// PlaceOwn is Place's second way alone: the leaf goes under sbx's own
// cgroup, which must be delegated (a scope made for this run).
func PlaceOwn(host Host, h Hierarchy, need []string) (string, error) {
	own := h.Own
	dir := h.Dir(own)
	if err := Delegated(host, dir); err != nil {
		return "", &NotDelegated{Cgroup: own, Reason: err}
	}
	have, err := Controllers(dir)
	if err != nil {
		return "", err
	}
	if missing := without(need, have); len(missing) > 0 {
		return "", &MissingControllers{Cgroup: own, Missing: missing, Have: have}
	}
	enabled, err := SubtreeControl(dir)
	if err != nil {
		return "", err
	}
	if containsAll(enabled, need) {
		return own, nil // the root of a namespace may hold processes and pass controllers
	}
	return own, enableHere(dir, need)
}

// enableHere moves dir's processes into its evacuation leaf and enables
// the controllers for dir's children. A process forked into dir meanwhile
// makes the kernel refuse (EBUSY): then again, a few times.
func enableHere(dir string, need []string) error {
	leaf := filepath.Join(dir, evacuationLeaf)
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cannot make %s for the processes of %s: %w", leaf, dir, err)
	}
	var err error
	for try := 0; try < 5; try++ {
		if err = moveAll(dir, leaf); err != nil {
			return err
		}
		if err = EnableControllers(dir, need); !errors.Is(err, unix.EBUSY) {
			return err
		}
	}
	return fmt.Errorf("%w (processes keep appearing in %s)", err, dir)
}

// moveAll moves every process of cgroup from into cgroup to. One that
// exits meanwhile is not an error.
func moveAll(from, to string) error {
	pids, err := Procs(from)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		err := writeFile(to, "cgroup.procs", strconv.Itoa(pid))
		if err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("cannot move process %d out of %s: %w", pid, from, err)
		}
	}
	return nil
}

func containsAll(have, need []string) bool { return len(without(need, have)) == 0 }

// without lists the names in need that are not in have.
func without(need, have []string) []string {
	var out []string
	for _, n := range need {
		found := false
		for _, h := range have {
			found = found || h == n
		}
		if !found {
			out = append(out, n)
		}
	}
	return out
}

// leafPrefix names the leaves sbx makes: "sbx-PID-RANDOM", the PID being
// the sbx process that made it, so that a later run can tell a leaf left
// by a killed run.
const leafPrefix = "sbx-"

// Leaf is the cgroup of one run, made for it under Place's cgroup and
// removed after it. The limits hold on Dir, which the sandbox cannot see:
// the child starts in Dir's child Sandbox, which roots its cgroup
// namespace. The limits are written there too, so that the sandbox's
// /sys/fs/cgroup shows them, but a command that found a way to raise those
// (a cgroup2 mount of its own, in a namespace of its own, on a host
// without nsdelegate) would still be held by Dir's.
type Leaf struct {
	Path string // Dir's path in the hierarchy
	Dir  string
	// Sandbox is the directory of the cgroup the sandbox runs in.
	Sandbox string
}

// sandboxCgroup names the leaf's child that the sandbox runs in.
const sandboxCgroup = "sandbox"

// NewLeaf makes a leaf for this process's run under base, with the
// controllers need enabled for its sandbox cgroup.
func NewLeaf(h Hierarchy, base string, need []string) (*Leaf, error) {
	var rnd [4]byte
	if _, err := unix.Getrandom(rnd[:], 0); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s%d-%x", leafPrefix, os.Getpid(), rnd)
	l := &Leaf{Path: path.Join(base, name)}
	l.Dir = h.Dir(l.Path)
	l.Sandbox = filepath.Join(l.Dir, sandboxCgroup)
	if err := os.Mkdir(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot make the run's cgroup: %w", err)
	}
	err := EnableControllers(l.Dir, need)
	if err == nil {
		err = os.Mkdir(l.Sandbox, 0o755)
	}
	if err != nil {
		l.Remove()
		return nil, fmt.Errorf("cannot make the run's cgroup: %w", err)
	}
	return l, nil
}

// Open is the directory descriptor of the sandbox's cgroup, which the
// child is cloned into.
func (l *Leaf) Open() (*os.File, error) {
	fd, err := unix.Open(l.Sandbox, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Sandbox, err)
	}
	return os.NewFile(uintptr(fd), l.Sandbox), nil
}

// Kill kills every process in the run's cgroup.
func (l *Leaf) Kill() {
	if err := Kill(l.Dir); err != nil {
		killEach(l.Sandbox)
	}
}

// Remove kills whatever is left in the leaf and removes it. The kernel
// takes a moment to let go of killed processes; past removeWait the leaf
// is left for the next run's RemoveStale.
func (l *Leaf) Remove() error {
	return remove(l.Dir)
}

const removeWait = 2 * time.Second

// rmdir removes a cgroup; a variable so that tests on plain directories
// can see what would be removed.
var rmdir = unix.Rmdir

// remove kills what dir holds and removes it with every cgroup below it:
// its sandbox cgroup, and any that a command allowed to mount made there
// (--cap-add SYS_ADMIN with --allow-nested-userns can remount its
// /sys/fs/cgroup read-write); a cgroup with children cannot be removed.
func remove(dir string) error {
	tree := cgroupTree(dir)
	if populated, err := Populated(dir); err == nil && populated {
		if err := Kill(dir); err != nil {
			for _, d := range tree {
				killEach(d)
			}
		}
	}
	deadline := time.Now().Add(removeWait)
	for _, d := range tree {
		for {
			err := rmdir(d)
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				return fmt.Errorf("cannot remove cgroup %s: %w", d, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// cgroupTree lists dir and the cgroups below it, deepest first. A cgroup
// file system holds only directories and files, no symbolic links.
func cgroupTree(dir string) []string {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if len(dirs) == 0 {
		dirs = []string{dir}
	}
	slices.Reverse(dirs) // WalkDir lists a directory before what it holds
	return dirs
}

// killEach is cgroup.kill for kernels before 5.14: SIGKILL to every
// process listed (a fork racing it is caught by the sandbox's PID
// namespace, which dies with its PID 1).
func killEach(dir string) {
	pids, _ := Procs(dir)
	for _, pid := range pids {
		unix.Kill(pid, unix.SIGKILL)
	}
}

// RemoveStale removes the leaves under base that runs killed before they
// could clean up left behind: those whose sbx process is gone and that
// hold no process. A leaf that still holds processes is left alone: its
// sbx may live in another PID namespace, where its PID means another.
func RemoveStale(h Hierarchy, base string) {
	dir := h.Dir(base)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := leafPID(e.Name())
		if !ok || !e.IsDir() || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) != unix.ESRCH {
			continue
		}
		leaf := filepath.Join(dir, e.Name())
		if populated, err := Populated(leaf); err == nil && !populated {
			for _, d := range cgroupTree(leaf) {
				rmdir(d)
			}
		}
	}
}

// leafPID is the PID in a leaf's name.
func leafPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, leafPrefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}
