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

	Timeout time.Duration `json:"timeout"`
	Grace   time.Duration `json:"grace"`
	Report  string        `json:"report,omitempty"`

	// Terminal is set when any of the caller's descriptors 0, 1 and 2 is a
	// terminal: the command then gets a pty of its own with this window
	// size, on those descriptors only (TerminalFDs); the others reach it
	// as the caller's own (a file, a pipe), byte for byte.
	Terminal    *WindowSize `json:"terminal,omitempty"`
	TerminalFDs [3]bool     `json:"terminal_fds"`
}

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
