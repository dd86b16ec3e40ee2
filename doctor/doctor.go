// Package doctor checks what this host allows sbx to do and says how to fix what it does not.
package doctor

import (
	"github.com/sbx-sandbox/sbx/cgdelegate"

	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Status is the verdict of one check.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn" // sbx works, with less (a fallback, a missing limit or network mode)
	Fail Status = "fail" // sbx cannot sandbox until this is fixed
)

// Check is one requirement and what this host does about it.
type Check struct {
	Name   string `json:"name"`          // short id: "userns", "overlay-userns", ...
	Status Status `json:"status"`        // ok, warn or fail
	Detail string `json:"detail"`        // one line: what was found, with the numbers
	Fix    string `json:"fix,omitempty"` // shell command(s), one per line; empty when ok
}

// Host is everything the checks look at. Every path and probe is a field so
// that tests can point the checks at a temp dir and fakes. An empty path or
// a nil LookPath, Access or FSType means the real one; a nil Probe means no
// probes.
type Host struct {
	ProcSys  string // "/proc/sys"
	Proc     string // "/proc" (filesystems, 1/environ)
	Etc      string // "/etc" (subuid, subgid, os-release)
	Dev      string // "/dev"
	CgroupFS string // "/sys/fs/cgroup"
	ProcSelf string // "/proc/self" (cgroup, status)
	Root     string // "/" (container markers /.dockerenv, /run/.containerenv)

	LookPath func(string) (string, error)
	// Access reports whether this process may access path with mode
	// (unix.R_OK|unix.W_OK...); default unix.Access. A fake lets tests that
	// run as root see a device they could not open.
	Access func(path string, mode uint32) error
	// FSType returns the statfs f_type of path; default statfs(2).
	FSType func(path string) (int64, error)

	UserName string
	UID      int

	// Probe runs a real probe in a fresh process (RunProbe); nil skips the
	// probes and the checks decide from files alone.
	Probe func(kind string) error

	// UserBus says whether a session bus (a systemd user manager's) can
	// be reached; nil: not known.
	UserBus func() bool

	KernelRelease string // uname -r

	// LandlockABI is the Landlock ABI version the kernel offers, 0 for
	// none; default landlock_create_ruleset(2).
	LandlockABI func() int
}

// DefaultHost describes the running host and the calling user.
func DefaultHost() Host {
	h := withDefaults(Host{
		UID:           os.Getuid(),
		Probe:         RunProbe,
		KernelRelease: kernelRelease(),
		UserBus:       cgdelegate.UserBus,
	})
	// The user name decides which /etc/subuid line applies; the uid alone
	// is enough when the lookup fails (no /etc/passwd entry in a container).
	if u, err := user.LookupId(strconv.Itoa(h.UID)); err == nil {
		h.UserName = u.Username
	}
	return h
}

// Run performs every check, in a fixed order. The order puts what blocks
// sbx entirely first, so the first failure is the one to fix first.
func Run(h Host) []Check {
	c := newChecker(h)
	return []Check{
		c.userns(),
		c.containerSeccomp(),
		c.overlayUserns(),
		c.hostView(),
		c.fuseOverlayfs(),
		c.subuid(),
		c.tun(),
		c.cgroup2(),
		c.cgroupDelegation(),
		c.kernel(),
		c.seccomp(),
		c.noNewPrivs(),
		c.landlock(),
	}
}

// UsernsChecks performs only the checks that decide whether a user
// namespace can be created; `sbx run` uses them to explain a failed clone.
func UsernsChecks(h Host) []Check {
	c := newChecker(h)
	return []Check{c.userns(), c.containerSeccomp()}
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// checker runs the checks for one host. Probes are memoized: several checks
// depend on the same probe, and each probe starts a process.
type checker struct {
	h      Host
	probes map[string]error
}

func newChecker(h Host) *checker {
	return &checker{h: withDefaults(h), probes: map[string]error{}}
}

// withDefaults fills what h leaves empty with the real host's paths and
// functions, so that a Host literal naming only some fields still works.
func withDefaults(h Host) Host {
	for _, f := range []struct {
		field *string
		def   string
	}{
		{&h.ProcSys, "/proc/sys"},
		{&h.Proc, "/proc"},
		{&h.Etc, "/etc"},
		{&h.Dev, "/dev"},
		{&h.CgroupFS, "/sys/fs/cgroup"},
		{&h.ProcSelf, "/proc/self"},
		{&h.Root, "/"},
	} {
		if *f.field == "" {
			*f.field = f.def
		}
	}
	if h.LookPath == nil {
		h.LookPath = exec.LookPath
	}
	if h.Access == nil {
		h.Access = access
	}
	if h.FSType == nil {
		h.FSType = fsType
	}
	if h.LandlockABI == nil {
		h.LandlockABI = landlockABI
	}
	return h
}

// probe runs kind once; ran is false when the host has no prober.
func (c *checker) probe(kind string) (ran bool, err error) {
	if c.h.Probe == nil {
		return false, nil
	}
	if err, done := c.probes[kind]; done {
		return true, err
	}
	err = c.h.Probe(kind)
	c.probes[kind] = err
	return true, err
}

// canRW reports whether this user may read and write path.
func (c *checker) canRW(path string) bool {
	return c.h.Access(path, rOK|wOK) == nil
}

// readInt reads a file holding one integer, as /proc/sys files do.
func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// oneLine squeezes an error text (often a child's stderr) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// userLabel names the user in fixes: the name when known, else a shell
// expression for it (usermod takes a login name, not a uid).
func (c *checker) userLabel() string {
	if c.h.UserName != "" {
		return c.h.UserName
	}
	return "\"$(id -un)\""
}

func join(dir string, elem ...string) string {
	return filepath.Join(append([]string{dir}, elem...)...)
}
