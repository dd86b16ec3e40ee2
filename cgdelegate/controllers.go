package cgdelegate

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Controllers reads cgroup.controllers: the controllers dir's parent
// grants it, which dir may enable for its children.
func Controllers(dir string) ([]string, error) {
	s, err := readFile(dir, "cgroup.controllers")
	return strings.Fields(s), err
}

// SubtreeControl reads cgroup.subtree_control: the controllers enabled for
// dir's children.
func SubtreeControl(dir string) ([]string, error) {
	s, err := readFile(dir, "cgroup.subtree_control")
	return strings.Fields(s), err
}

// EnableControllers enables names for dir's children, writing "+a +b" to
// cgroup.subtree_control in one write (the kernel enables all or none);
// those already enabled are left out, so that nothing is written when
// there is nothing to do.
func EnableControllers(dir string, names []string) error {
	enabled, err := SubtreeControl(dir)
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range names {
		if !slices.Contains(enabled, n) && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var plus []string
	for _, n := range missing {
		plus = append(plus, "+"+n)
	}
	path := filepath.Join(dir, "cgroup.subtree_control")
	err = writeFile(dir, "cgroup.subtree_control", strings.Join(plus, " "))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT):
		// The file is there (it was just read): the kernel's ENOENT is a
		// controller that the parent does not grant.
		have, _ := Controllers(dir)
		return fmt.Errorf("enable %s in %s: not all are available (cgroup.controllers has %q): "+
			"the parent cgroup does not delegate them", strings.Join(missing, ", "), path, strings.Join(have, " "))
	case errors.Is(err, unix.EBUSY):
		// Wrapped: a caller that moves the processes out tries again.
		return fmt.Errorf("enable %s in %s: the cgroup has processes of its own, "+
			"and a cgroup with processes cannot control its children's resources (%w)", strings.Join(missing, ", "), path, unix.EBUSY)
	}
	return fmt.Errorf("enable %s in %s: %w", strings.Join(missing, ", "), path, errors.Unwrap(err))
}

// ControllerFor names the controller that enforces a limit flag, given
// with or without its dashes ("--memory", "io-read-bps"); "" for a flag
// that is no cgroup limit.
func ControllerFor(limit string) string {
	switch strings.TrimLeft(limit, "-") {
	case "memory", "memory-swap":
		return "memory"
	case "cpus":
		return "cpu"
	case "cpuset":
		return "cpuset"
	case "pids":
		return "pids"
	case "io-read-bps", "io-write-bps":
		return "io"
	}
	return ""
}

// Kill writes "1" to cgroup.kill, which SIGKILLs every process in dir and
// its descendants at once, new forks included. cgroup.kill came in Linux
// 5.14: without it the error wraps fs.ErrNotExist and the caller falls
// back to signalling the processes of Procs.
func Kill(dir string) error {
	return writeFile(dir, "cgroup.kill", "1")
}

// Populated reads cgroup.events: whether a live process is left in dir or
// below it.
func Populated(dir string) (bool, error) {
	s, err := readFile(dir, "cgroup.events")
	if err != nil {
		return false, err
	}
	v, ok := parseFlat(s)["populated"]
	if !ok {
		return false, fmt.Errorf("read %s: no populated field", filepath.Join(dir, "cgroup.events"))
	}
	return v != 0, nil
}

// Procs reads cgroup.procs: the processes in dir itself (not below it).
func Procs(dir string) ([]int, error) {
	s, err := readFile(dir, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	var pids []int
	for f := range strings.FieldsSeq(s) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %q is not a process id", filepath.Join(dir, "cgroup.procs"), f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
