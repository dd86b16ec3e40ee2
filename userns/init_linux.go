package userns

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/internal/threads"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/slirp/tap"
	"github.com/sbx-sandbox/sbx/spec"
)

// childSocketFD is where the parent's socket lands in the child (ExtraFiles[0]).
const childSocketFD = 3

// step is one phase of the child's setup, in order.
type step struct {
	name string
	run  func(*child) error
}

// child is the state of PID 1 inside the sandbox.
type child struct {
	conn   *Conn
	setup  *Setup
	ptyFD  int // the command's end of its pty, or -1
	signal chan os.Signal
}

// setupSteps run after the id maps are written, top to bottom.
var setupSteps = []step{
	// Before the root is built: its /proc/sys is read-only, and the
	// host's /dev/net/tun is out of reach after pivot_root.
	{"bring up loopback", (*child).loopbackUp},
	{"make the network device", (*child).makeTAP},
	{"build the root file system", (*child).buildRoot},
	{"set the hostname", (*child).setHostname},
	{"open a terminal", (*child).openTerminal},
	{"lock down", (*child).lockDown},
}

// InitMain is the entry of `sbx __init`: PID 1 of the sandbox. It returns
// the process's exit status; the parent reads the real outcome from the
// socket.
func InitMain() int {
	// Install handlers first: PID 1 of a namespace ignores any signal for
	// which it has no handler, so the parent's forwarded signals would be
	// lost.
	c := &child{ptyFD: -1, signal: make(chan os.Signal, 32)}
	signal.Notify(c.signal, append([]os.Signal{syscall.SIGCHLD}, Forwarded...)...)
	// Named for ps: an exec of /proc/self/exe would otherwise show "exe".
	// main's goroutine is locked to the main thread, whose name is the
	// process's.
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("sbx-init\x00")[0])), 0, 0, 0)
	// Only the socket is meant to be open; nothing else may reach the
	// command whatever the parent's caller left open.
	unix.CloseRange(childSocketFD+1, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	unix.CloseOnExec(childSocketFD)
	// Through Go's poller, as the parent's end: the reaper's goroutine
	// that waits on it then holds no P, and with limits PID 1 has one,
	// which a blocking read would keep from the reaper (for up to 10 ms,
	// until sysmon takes it back) when the command exits.
	unix.SetNonblock(childSocketFD, true)
	c.conn = NewConn(os.NewFile(childSocketFD, "sbx-child"))

	fail := func(format string, args ...any) int {
		c.conn.Send(Message{Type: MsgFailed, Error: fmt.Sprintf(format, args...)})
		return ExitSetup
	}
	m, _, err := c.conn.Expect(MsgSetup)
	if err != nil {
		return fail("read setup: %v", err)
	}
	c.setup = m.Setup
	if _, _, err := c.conn.Expect(MsgMapsWritten); err != nil {
		return fail("wait for id maps: %v", err)
	}
	for _, s := range setupSteps {
		if err := s.run(c); err != nil {
			return fail("%s: %v", s.name, err)
		}
	}
	if c.setup.Spec.CgroupNS {
		// The command shares the run's pids.max with PID 1, which must
		// not die when a fork bomb fills it: one P and a few idle threads
		// cover what it does once the command runs (a blocked wait4, the
		// socket, signals).
		threads.Hold(4)
	}
	if err := c.conn.Send(Message{Type: MsgReady}); err != nil {
		return ExitSetup
	}
	exit := c.runCommand()
	c.conn.Send(Message{Type: MsgExited, Exit: exit})
	return exit.Code
}

func (c *child) buildRoot() error {
	return rootfs.Apply(c.setup.Plan, c.setup.NewRoot, func(dev int) error {
		return c.conn.Send(Message{Type: MsgHostFS}, dev)
	})
}

func (c *child) setHostname() error {
	return unix.Sethostname([]byte(c.setup.Spec.Hostname))
}

// loopbackUp brings lo up in a new network namespace; with --net host the
// namespace is the host's and nothing is touched.
func (c *child) loopbackUp() error {
	if Cloneflags(c.setup.Spec.Net)&unix.CLONE_NEWNET == 0 {
		return nil
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return unprivilegedNet()
}

// unprivilegedNet lets the command bind ports below 1024 and open ICMP
// echo sockets in the sandbox's own network namespace, as Docker does:
// whatever its capabilities (none as another uid than root, none over this
// namespace from a nested user namespace, and CAP_NET_BIND_SERVICE may be
// dropped), a build's test servers and ping work.
func unprivilegedNet() error {
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("0"), 0); errors.Is(err, unix.EROFS) {
		return fmt.Errorf("allow low ports: /proc/sys is read-only here, as a container mounts it (Docker: start it with --security-opt systempaths=unconfined): %w", err)
	} else if err != nil {
		return fmt.Errorf("allow low ports: %w", err)
	}
	gids, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return err
	}
	lo, hi, ok := idSpan(string(gids))
	if !ok {
		return fmt.Errorf("gid_map %q: no range", gids)
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte(fmt.Sprintf("%d %d", lo, hi)), 0); err != nil {
		return fmt.Errorf("allow ping: %w", err)
	}
	return nil
}

// makeTAP creates the sandbox's TAP for --net slirp and hands it to the
// parent, which serves it with its user-space stack.
func (c *child) makeTAP() error {
	if c.setup.Spec.Net != spec.NetSlirp {
		return nil
	}
	dev, err := tap.Create(tap.Default(), "/dev/net/tun")
	if err != nil {
		return err
	}
	defer dev.Close()
	return c.conn.Send(Message{Type: MsgTAP}, int(dev.Fd()))
}

// openTerminal gives the command a pty of its own inside the sandbox's
// devpts when the caller is on a terminal, and hands the master to the
// parent.
func (c *child) openTerminal() error {
	ws := c.setup.Spec.Terminal
	if ws == nil {
		return nil
	}
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock pty: %w", err)
	}
	// TIOCGPTPEER opens the other end from the master itself, with no
	// path lookup that a planted /dev/pts entry could redirect.
	peer, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return fmt.Errorf("open pty peer: %w", errno)
	}
	c.ptyFD = int(peer)
	unix.IoctlSetWinsize(c.ptyFD, unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols})
	if c.setup.Spec.TerminalTranslates {
		if err := leaveNewlines(c.ptyFD); err != nil {
			return fmt.Errorf("pty mode: %w", err)
		}
	}
	return c.conn.Send(Message{Type: MsgTerminal}, master)
}

// lockDown is the last step before the command starts. PID 1 is made
// undumpable so the command cannot read its memory or descriptors through
// /proc/1, the bounding set is cut down to the command's capabilities, and
// no_new_privs keeps setuid binaries from gaining anything. The seccomp
// filter comes last, in runCommand, right before the fork: PID 1's own
// setup must not run under it.
func (c *child) lockDown() error {
	// PID 1 kept every capability as ambient across its own exec (see
	// AllCaps); the command must not inherit them that way.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_CAP_AMBIENT_CLEAR_ALL): %w", err)
	}
	// Raising them filled the inheritable set too; a root exec would carry
	// every inheritable capability past the bounding set.
	if err := clearInheritable(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", err)
	}
	// Without CAP_SYS_PTRACE the command cannot reach the undumpable PID 1
	// through /proc/1 (its descriptors, memory, exe); without
	// CAP_SYS_ADMIN it cannot mount or unmount. In a nested namespace the
	// kernel hands out a full set again, and the helper cuts it there.
	if !needsNestedNamespace(c.setup.Spec.Caps) {
		if err := limitBoundingSet(c.setup.Spec.Caps, LastCap()); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if n := c.setup.Spec.NProc; n > 0 {
		// Lowering a limit needs no privilege, and the command cannot
		// raise it again without CAP_SYS_RESOURCE in the host's
		// namespace.
		if err := unix.Setrlimit(unix.RLIMIT_NPROC, &unix.Rlimit{Cur: n, Max: n}); err != nil {
			return fmt.Errorf("setrlimit(RLIMIT_NPROC, %d): %w", n, err)
		}
	}
	return newSessionKeyring()
}

// newSessionKeyring puts this thread, which starts the command, in a new
// empty session keyring: the command must not possess the caller's session
// keyring and the keys in it. The session keyring is per thread; PID 1's
// setup and its fork of the command run on the main thread (locked in
// main's init). A NULL name makes the keyring anonymous: a named one would
// join an existing keyring of that name.
func newSessionKeyring() error {
	_, _, errno := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0)
	if errno != 0 {
		return fmt.Errorf("keyctl(KEYCTL_JOIN_SESSION_KEYRING): %w", errno)
	}
	return nil
}
