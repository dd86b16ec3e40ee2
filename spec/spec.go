// Package spec defines the Spec: the one JSON value that says everything a run
// will do. It flows one way: command line → Spec → parent → child.
package spec

import (
	"time"

	"github.com/sbx-sandbox/sbx/caps"
)

// Spec is a fully resolved description of one sandboxed run. Paths are
// absolute and cleaned; nothing in it depends on the child's view of the host.
type Spec struct {
	Command  []string `json:"command"`
	Hostname string   `json:"hostname"`
	Workdir  string   `json:"workdir"`
	// WorkdirSource is the workdir on the host with every symlink
	// resolved: the source of its bind, and what host paths (sbx's
	// binary, secrets, state, git directories) are compared with. Workdir
	// is where the command sees it, the path the caller used.
	WorkdirSource string   `json:"workdir_source"`
	Env           []string `json:"env"` // final environment of the command, K=V
	// EnvDropped are the caller's variable names that were kept out (for
	// the report; names only, never values).
	EnvDropped []string `json:"env_dropped,omitempty"`

	Rootfs RootfsMode `json:"rootfs"`
	Home   HomeMode   `json:"home"`
	Mounts []Mount    `json:"mounts"` // --bind/--ro-bind/--tmpfs/--hide in command-line order
	Keep   string     `json:"keep,omitempty"`
	Diff   bool       `json:"diff"`
	// GitProtect keeps code-running git state (hooks, config keys) that
	// the command plants in the workdir's git directories off the host.
	GitProtect bool `json:"git_protect"`

	UID      int     `json:"uid"`
	GID      int     `json:"gid"`
	MapUsers MapMode `json:"map_users"`

	Net NetMode `json:"net"`
	// With --net slirp: the egress rules, publishing, DNS and log, as
	// given; the parent's network checks and serves them.
	AllowNet          []string `json:"allow_net,omitempty"`
	AllowHostLoopback bool     `json:"allow_host_loopback,omitempty"`
	Publish           []string `json:"publish,omitempty"`
	DNSUpstream       string   `json:"dns_upstream,omitempty"`
	NetLog            string   `json:"net_log,omitempty"`

	// Caps is the command's capability set in its user namespace:
	// bounding, permitted and effective alike (inheritable and ambient
	// are empty).
	Caps caps.Set `json:"caps"`
	// Seccomp is "default", "unconfined" or the absolute path of a
	// profile file; the parent compiles it before the child starts.
	Seccomp string `json:"seccomp"`
	// AllowNestedUserns lets the command create namespaces of its own.
	AllowNestedUserns bool `json:"allow_nested_userns"`

	// Limits are the resource limits asked for, as given; the parent
	// enforces them through a cgroup.
	Limits Limits `json:"limits"`
	// CgroupNS is set by the parent when the child starts in a cgroup of
	// its own (the limits' leaf) and a cgroup namespace rooted there: the
	// child then mounts that cgroup at /sys/fs/cgroup, read-only.
	CgroupNS bool `json:"cgroup_ns,omitempty"`
	// NProc, when not 0, is the RLIMIT_NPROC that PID 1 sets before it
	// starts the command: --pids where no cgroup can hold it
	// (--limits best-effort). Set by the parent.
	NProc uint64 `json:"nproc,omitempty"`

	Timeout time.Duration `json:"timeout"`
	Grace   time.Duration `json:"grace"`
	Report  string        `json:"report,omitempty"`

	// Terminal is set when any of the caller's descriptors 0, 1 and 2 is a
	// terminal: the command then gets a pty of its own with this window
	// size, on those descriptors only (TerminalFDs); the others reach it
	// as the caller's own (a file, a pipe), byte for byte.
	Terminal    *WindowSize `json:"terminal,omitempty"`
	TerminalFDs [3]bool     `json:"terminal_fds"`
	// TerminalTranslates is set when the caller's terminal that shows the
	// pty's output keeps its output mode during the run (sbx leaves it
	// alone: stdin is not that terminal, sbx is in the background, or the
	// command's stdout is not on the pty, when sbx makes only the
	// terminal's input raw) and turns each newline into CR LF itself: the
	// pty then leaves newlines alone, or every line would reach the
	// terminal as CR CR LF (userns.OutputTranslated).
	TerminalTranslates bool `json:"terminal_translates,omitempty"`
}

// Limits are the resource limit flags as given (DESIGN.md's names).
type Limits struct {
	Memory     string     `json:"memory,omitempty"`      // --memory SIZE
	MemorySwap string     `json:"memory_swap,omitempty"` // --memory-swap SIZE: memory and swap together
	CPUs       string     `json:"cpus,omitempty"`        // --cpus N
	Cpuset     string     `json:"cpuset,omitempty"`      // --cpuset LIST
	Pids       string     `json:"pids,omitempty"`        // --pids N
	IORead     []string   `json:"io_read_bps,omitempty"` // --io-read-bps DEV:RATE
	IOWrite    []string   `json:"io_write_bps,omitempty"`
	Mode       LimitsMode `json:"mode"` // --limits
}

// Asked says whether any limit was asked for.
func (l Limits) Asked() bool {
	return l.Memory != "" || l.MemorySwap != "" || l.CPUs != "" || l.Cpuset != "" || l.Pids != "" ||
		len(l.IORead) > 0 || len(l.IOWrite) > 0
}

// LimitsMode says what happens to a limit the host cannot enforce.
type LimitsMode string

const (
	// LimitsStrict refuses to run (exit 125) with the reason and the fix.
	LimitsStrict LimitsMode = "strict"
	// LimitsBestEffort runs with what the host allows, and the report
	// says which limits were real.
	LimitsBestEffort LimitsMode = "best-effort"
)

// WindowSize is a terminal's size in character cells.
type WindowSize struct {
	Rows uint16 `json:"rows"`
	Cols uint16 `json:"cols"`
}

// RootfsMode says how the host's directories appear inside.
type RootfsMode string

const (
	RootfsCOW RootfsMode = "cow" // copy-on-write: writes succeed inside and are discarded
	RootfsRO  RootfsMode = "ro"  // read-only view of the host
)

// HomeMode says how the caller's home directories ($HOME and the one in the
// password database) appear inside.
type HomeMode string

const (
	HomeCOW   HomeMode = "cow"   // like the rest of the host, its secrets hidden
	HomeEmpty HomeMode = "empty" // an empty tmpfs; only the workdir and binds under it show
)

// MapMode says how ids other than the caller's are mapped.
type MapMode string

const (
	MapAuto MapMode = "auto" // subordinate ranges through newuidmap when available
	MapNone MapMode = "none" // the caller's id only
)

// NetMode is the network the command gets.
type NetMode string

const (
	NetNone  NetMode = "none"  // a new network namespace with only lo up
	NetSlirp NetMode = "slirp" // a TAP served by a user-space TCP/IP stack
	NetHost  NetMode = "host"  // the host's network namespace, shared
)

// MountKind is the kind of a mount requested on the command line.
type MountKind string

const (
	MountBind   MountKind = "bind"
	MountROBind MountKind = "ro-bind"
	MountTmpfs  MountKind = "tmpfs"
	MountHide   MountKind = "hide"
)

// Mount is one --bind, --ro-bind, --tmpfs or --hide flag.
type Mount struct {
	Kind   MountKind `json:"kind"`
	Source string    `json:"source,omitempty"` // host path, for binds
	Target string    `json:"target"`           // path inside
}
