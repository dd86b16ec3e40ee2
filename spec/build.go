package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sbx-sandbox/sbx/caps"
)

// Options are the raw values of `sbx run`'s flags, before any resolution.
type Options struct {
	Command  []string
	Hostname string
	Workdir  string
	Mounts   []Mount // Source/Target as typed; resolved by Build
	Rootfs   string
	Home     string
	// Homes are the caller's home directories ($HOME, the password
	// database's), which --home empty checks the workdir against.
	Homes []string
	Keep  string
	Diff  bool
	// GitProtect is "on" (the default when empty) or "off".
	GitProtect string
	Env        []string
	EnvAll     bool // --env-all: every caller variable but secret-looking ones
	UID, GID   int
	MapUsers   string
	Net        string
	Timeout    time.Duration
	Grace      time.Duration
	Report     string
	// CapAdd and CapDrop are --cap-add and --cap-drop; LastCap is the
	// highest capability the kernel knows (0: not known, taken as
	// CAP_CHECKPOINT_RESTORE, Linux 5.9).
	CapAdd, CapDrop   []string
	LastCap           int
	Seccomp           string // --seccomp: default, unconfined or FILE
	AllowNestedUserns bool
	// The network's flags; each but --net implies --net slirp. Their
	// values are checked by the network when the run starts.
	AllowNet          []string
	AllowHostLoopback bool
	Publish           []string
	DNSUpstream       string
	NetLog            string
	// Limits are the resource limit flags, as given; the run's limits
	// part checks their values when the run starts.
	Limits Limits
}

// Caller is what Build needs to know about the process that invoked sbx.
type Caller struct {
	Env []string
	Cwd string
}

// Build turns flag values into a Spec: it resolves relative paths against the
// caller's working directory, validates every value and filters the
// environment. It touches nothing on disk.
func Build(o Options, c Caller) (*Spec, error) {
	if len(o.Command) == 0 {
		return nil, errors.New("no command given; usage: sbx run [flags] -- COMMAND [ARG...]")
	}
	s := &Spec{
		Command:  o.Command,
		Hostname: o.Hostname,
		Keep:     abs(c.Cwd, o.Keep),
		Diff:     o.Diff,
		UID:      o.UID,
		GID:      o.GID,
		Timeout:  o.Timeout,
		Grace:    o.Grace,
		Report:   abs(c.Cwd, o.Report),
	}
	if s.Hostname == "" {
		s.Hostname = "sbx"
	}
	if err := checkHostname(s.Hostname); err != nil {
		return nil, err
	}
	s.Workdir = abs(c.Cwd, o.Workdir)
	if s.Workdir == "" {
		s.Workdir = filepath.Clean(c.Cwd)
	}
	if err := checkWorkdir(s.Workdir); err != nil {
		return nil, err
	}
	switch RootfsMode(o.Rootfs) {
	case RootfsCOW, "":
		s.Rootfs = RootfsCOW
	case RootfsRO:
		s.Rootfs = RootfsRO
	default:
		return nil, fmt.Errorf("--rootfs %q: expected cow or ro", o.Rootfs)
	}
	home, err := homeMode(o.Home, s.Workdir, o.Homes)
	if err != nil {
		return nil, err
	}
	s.Home = home
	switch o.GitProtect {
	case "on", "":
		s.GitProtect = true
	case "off":
	default:
		return nil, fmt.Errorf("--git-protect %q: expected on or off", o.GitProtect)
	}
	switch MapMode(o.MapUsers) {
	case MapAuto, "":
		s.MapUsers = MapAuto
	case MapNone:
		s.MapUsers = MapNone
	default:
		return nil, fmt.Errorf("--map-users %q: expected auto or none", o.MapUsers)
	}
	if err := s.network(o, c.Cwd); err != nil {
		return nil, err
	}
	if err := s.limits(o.Limits); err != nil {
		return nil, err
	}
	if o.UID < 0 || o.UID > 65535 || o.GID < 0 || o.GID > 65535 {
		return nil, fmt.Errorf("--uid %d --gid %d: ids inside must be between 0 and 65535", o.UID, o.GID)
	}
	if o.Timeout < 0 || o.Grace < 0 {
		return nil, errors.New("--timeout and --grace must not be negative")
	}
	if s.Rootfs == RootfsRO && (s.Keep != "" || s.Diff) {
		return nil, errors.New("--keep and --diff need --rootfs cow: a read-only host view has no changes to show")
	}
	if o.LastCap <= 0 {
		o.LastCap = caps.CheckpointRestore
	}
	if s.Caps, err = caps.Resolve(o.CapAdd, o.CapDrop, o.LastCap); err != nil {
		return nil, err
	}
	s.AllowNestedUserns = o.AllowNestedUserns
	if s.Seccomp, err = seccompProfile(o.Seccomp, c.Cwd); err != nil {
		return nil, err
	}
	for _, m := range o.Mounts {
		rm, err := resolveMount(m, c.Cwd)
		if err != nil {
			return nil, err
		}
		s.Mounts = append(s.Mounts, rm)
	}
	env, dropped, err := FilterEnv(c.Env, o.Env, o.EnvAll)
	if err != nil {
		return nil, err
	}
	s.EnvDropped = dropped
	s.Env = withPWD(fixTmpdir(env, s), s.Workdir)
	return s, nil
}

// seccompProfile resolves --seccomp: a keyword, or a profile file's path
// made absolute (it is read before the command starts).
func seccompProfile(v, cwd string) (string, error) {
	switch v {
	case "", "default":
		return "default", nil
	case "unconfined":
		return v, nil
	}
	return abs(cwd, v), nil
}

// withPWD sets PWD to the workdir as the caller named it: the command
// starts there, and a shell reports that path, not the one its symlinks
// lead to.
func withPWD(env []string, workdir string) []string {
	out := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PWD=") {
			out = append(out, kv)
		}
	}
	return append(out, "PWD="+workdir)
}

// privateDirs are new and empty inside; a path under them from the host
// does not exist there.
var privateDirs = []string{"/tmp", "/run", "/var/tmp", "/dev/shm"}

// fixTmpdir points TMPDIR at /tmp when the caller's lies in a directory the
// sandbox gets new (and so would not exist inside), unless the workdir or a
// bind brings it in.
func fixTmpdir(env []string, s *Spec) []string {
	dir, ok := Lookup(env, "TMPDIR")
	if !ok || isUnder(dir, s.Workdir) {
		return env
	}
	for _, m := range s.Mounts {
		if (m.Kind == MountBind || m.Kind == MountROBind || m.Kind == MountTmpfs) && isUnder(dir, m.Target) {
			return env
		}
	}
	for _, p := range privateDirs {
		if isUnder(filepath.Clean(dir), p) {
			for i, kv := range env {
				if strings.HasPrefix(kv, "TMPDIR=") {
					env[i] = "TMPDIR=/tmp"
				}
			}
			break
		}
	}
	return env
}

// ParseMountFlag reads the value of one mount flag: SRC[:DST] for binds
// (DST defaults to SRC), a path for --tmpfs and --hide.
func ParseMountFlag(kind MountKind, value string) (Mount, error) {
	if value == "" {
		return Mount{}, fmt.Errorf("--%s: empty path", kind)
	}
	switch kind {
	case MountBind, MountROBind:
		src, dst, ok := strings.Cut(value, ":")
		if !ok || dst == "" {
			dst = src
		}
		if src == "" {
			return Mount{}, fmt.Errorf("--%s %q: expected SRC[:DST]", kind, value)
		}
		return Mount{Kind: kind, Source: src, Target: dst}, nil
	case MountTmpfs, MountHide:
		return Mount{Kind: kind, Target: value}, nil
	}
	return Mount{}, fmt.Errorf("unknown mount kind %q", kind)
}

func resolveMount(m Mount, cwd string) (Mount, error) {
	if m.Source != "" {
		m.Source = abs(cwd, m.Source)
	}
	if !filepath.IsAbs(m.Target) && m.Kind != MountBind && m.Kind != MountROBind {
		return m, fmt.Errorf("--%s %q: the path inside must be absolute", m.Kind, m.Target)
	}
	m.Target = abs(cwd, m.Target)
	if m.Target == "/" {
		return m, fmt.Errorf("--%s: cannot mount over /", m.Kind)
	}
	if isUnder(m.Target, "/proc") {
		return m, fmt.Errorf("--%s %s: mounts under /proc are not allowed", m.Kind, m.Target)
	}
	return m, nil
}

func checkWorkdir(dir string) error {
	if dir == "/" {
		return errors.New("--workdir /: the whole host cannot be the read-write workdir; cd into a project directory or pass --workdir DIR")
	}
	// A workdir reached through /proc would hand the command a host
	// descriptor (runc CVE-2024-21626).
	if isUnder(dir, "/proc") {
		return fmt.Errorf("--workdir %s: a workdir under /proc is not allowed", dir)
	}
	return nil
}

// homeMode reads --home. An emptied home under the workdir would be
// mounted over by the workdir's bind and show whole, so that is refused
// rather than run with less hidden than asked.
func homeMode(mode, workdir string, homes []string) (HomeMode, error) {
	switch HomeMode(mode) {
	case HomeCOW, "":
		return HomeCOW, nil
	case HomeEmpty:
	default:
		return "", fmt.Errorf("--home %q: expected cow or empty", mode)
	}
	if err := CheckHomeEmpty(workdir, homes); err != nil {
		return "", err
	}
	return HomeEmpty, nil
}

// CheckHomeEmpty refuses --home empty for a workdir that is or holds one
// of the homes. Build checks the paths as given; the caller checks them
// again with symlinks resolved, which Build cannot (it touches no disk).
func CheckHomeEmpty(workdir string, homes []string) error {
	for _, h := range homes {
		if !filepath.IsAbs(h) || filepath.Clean(h) == "/" {
			continue // not emptied
		}
		if h = filepath.Clean(h); isUnder(h, workdir) {
			return fmt.Errorf("--home empty: the workdir %s is or holds the home directory %s, which would stay visible through it; choose a --workdir inside the home or outside it", workdir, h)
		}
	}
	return nil
}

func checkHostname(name string) error {
	if len(name) > 64 {
		return fmt.Errorf("--hostname %q: longer than 64 bytes", name)
	}
	for _, r := range name {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("--hostname %q: only letters, digits, '-' and '.' are allowed", name)
		}
	}
	return nil
}

func abs(cwd, p string) string {
	if p == "" {
		return ""
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p)
}

// isUnder reports whether path is dir or lies beneath it.
func isUnder(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// network settles --net and the flags that only mean something with
// slirp: they choose it when --net is not given, and contradict any other.
func (s *Spec) network(o Options, cwd string) error {
	var slirpOnly []string
	for flag, set := range map[string]bool{
		"--allow-net": len(o.AllowNet) > 0, "--allow-host-loopback": o.AllowHostLoopback,
		"--publish": len(o.Publish) > 0, "--dns-upstream": o.DNSUpstream != "", "--net-log": o.NetLog != "",
	} {
		if set {
			slirpOnly = append(slirpOnly, flag)
		}
	}
	sort.Strings(slirpOnly)
	switch NetMode(o.Net) {
	case "":
		s.Net = NetNone
		if len(slirpOnly) > 0 {
			s.Net = NetSlirp
		}
	case NetNone, NetHost, NetSlirp:
		s.Net = NetMode(o.Net)
	default:
		return fmt.Errorf("--net %q: expected none, slirp or host", o.Net)
	}
	if s.Net != NetSlirp && len(slirpOnly) > 0 {
		return fmt.Errorf("%s: only with --net slirp (the built-in network), not --net %s", strings.Join(slirpOnly, ", "), s.Net)
	}
	s.AllowNet = o.AllowNet
	s.AllowHostLoopback = o.AllowHostLoopback
	s.Publish = o.Publish
	s.DNSUpstream = o.DNSUpstream
	s.NetLog = abs(cwd, o.NetLog)
	return nil
}

// limits settles --limits and the flags that only make sense together;
// the values themselves (sizes, rates, CPU lists) are read by the run's
// limits part, which names a malformed one.
func (s *Spec) limits(l Limits) error {
	switch l.Mode {
	case "":
		l.Mode = LimitsStrict
	case LimitsStrict, LimitsBestEffort:
	default:
		return fmt.Errorf("--limits %q: expected strict or best-effort", l.Mode)
	}
	if l.MemorySwap != "" && l.Memory == "" {
		return errors.New("--memory-swap needs --memory: it is the total of memory and swap the command may use")
	}
	s.Limits = l
	return nil
}
