// Package userns starts the sandbox: the parent side that creates the
// namespaces, writes the id maps and supervises the run, and the child side
// (PID 1 inside) that builds the root, starts the command and reaps.
package userns

// The parent and the child speak over one unix stream socket (fd 3 in the
// child) in framed JSON messages, in this fixed order:
//
//	parent (caller's uid, host namespaces)      child: sbx __init (PID 1, new namespaces)
//	  the parts start: id maps chosen, record
//	  file made, --publish ports bound
//	  clone with CLONE_NEW{USER,NS,PID,UTS,IPC,NET}
//	  (the mount plan is built meanwhile)
//	  Setup{Spec, Plan, Seccomp}   ─────────────▶ decode it
//	  write uid_map/gid_map (newuidmap or direct, meanwhile)
//	  MapsWritten                  ─────────────▶ (the steps below run in setupSteps' order)
//	                                              lo up; with --net slirp: open /dev/net/tun,
//	                                              make tap0, address and route it (netlink)
//	  serve it: gVisor netstack    ◀───────────── TAP + its fd (SCM_RIGHTS), with --net slirp
//	                                              apply the plan, pivot_root, hostname
//	                               ◀───────────── Terminal + pty master fd (SCM_RIGHTS), when asked
//	                               ◀───────────── Ready, or Failed{Error} (then the child exits)
//	                                              lock down: capability bounding set, no_new_privs,
//	                                              seccomp filter; start COMMAND,
//	  signals ─▶ kill(child)                       forward signals, reap every process
//	  SignalAll{sig} (timeout)     ─────────────▶ kill(-1, sig)
//	                               ◀───────────── Exited{status, rusage}
//	  wait; the parts stop in reverse: network (its summary), diff, keep,
//	  clean up; the report last
//
// In the child's order: the TAP is made first, while the host's /dev is
// still in reach; then the root is built, which mounts the FUSE view:
//
//	  serve it: hostfs             ◀───────────── HostFS + /dev/fuse fd (SCM_RIGHTS), when planned
//
// Each descriptor message is handled by the part that asked for it
// (Sandbox.Serve); the child goes on without waiting for the TAP, whose
// frames queue in the kernel until the stack reads them.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/seccomp"
	"github.com/sbx-sandbox/sbx/spec"
)

// MsgType names a message of the protocol.
type MsgType string

const (
	MsgSetup       MsgType = "setup"
	MsgMapsWritten MsgType = "maps-written"
	MsgTerminal    MsgType = "terminal"
	MsgHostFS      MsgType = "hostfs"
	MsgTAP         MsgType = "tap"
	MsgReady       MsgType = "ready"
	MsgFailed      MsgType = "failed"
	MsgSignalAll   MsgType = "signal-all"
	MsgExited      MsgType = "exited"
)

// Setup is everything the child needs; it decides nothing on its own.
type Setup struct {
	Spec *spec.Spec   `json:"spec"`
	Plan *rootfs.Plan `json:"plan"`
	// NewRoot is the host directory where the child mounts the new root.
	NewRoot string `json:"new_root"`
	// Seccomp is the command's system call filter, compiled by the parent
	// (a profile file is read there, on the host, before anything runs).
	Seccomp *seccomp.Program `json:"seccomp"`
}

// Exit is how the command ended, measured by PID 1.
type Exit struct {
	Code   int `json:"code"`   // sbx's exit status for it
	Signal int `json:"signal"` // the signal that killed it, or 0
	// ExecError is set when the command could not be started (126, 127).
	ExecError string `json:"exec_error,omitempty"`
	// MaxRSSKiB is the largest resident set of any process reaped inside.
	MaxRSSKiB int64 `json:"max_rss_kib"`
}

// Message is one frame.
type Message struct {
	Type   MsgType `json:"type"`
	Setup  *Setup  `json:"setup,omitempty"`
	Error  string  `json:"error,omitempty"`
	Signal int     `json:"signal,omitempty"`
	Exit   *Exit   `json:"exit,omitempty"`
}

// maxFrame bounds a frame; a plan for a large host is a few hundred KiB.
const maxFrame = 64 << 20

// Conn is one end of the socket.
type Conn struct{ f *os.File }

// NewConn wraps a connected unix stream socket.
func NewConn(f *os.File) *Conn { return &Conn{f: f} }

// Close closes the socket.
func (c *Conn) Close() error { return c.f.Close() }

// Send writes one message, with descriptors attached to its first byte.
func (c *Conn) Send(m Message, fds ...int) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	frame := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(frame, uint32(len(body)))
	copy(frame[4:], body)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	raw, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	var sendErr error
	sent := 0
	err = raw.Write(func(fd uintptr) bool {
		for sent < len(frame) {
			n, err := unix.SendmsgN(int(fd), frame[sent:], oob, nil, 0)
			if err == unix.EAGAIN {
				return false
			}
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				sendErr = err
				return true
			}
			sent += n
			oob = nil // descriptors travel once, with the first bytes
		}
		return true
	})
	if err != nil {
		return err
	}
	return sendErr
}

// Recv reads one message and any descriptors sent with it.
func (c *Conn) Recv() (Message, []int, error) {
	var m Message
	header := make([]byte, 4)
	var fds []int
	got := 0
	raw, err := c.f.SyscallConn()
	if err != nil {
		return m, nil, err
	}
	var recvErr error
	oob := make([]byte, unix.CmsgSpace(4*4))
	err = raw.Read(func(fd uintptr) bool {
		for got < len(header) {
			n, oobn, _, _, err := unix.Recvmsg(int(fd), header[got:], oob, unix.MSG_CMSG_CLOEXEC)
			if err == unix.EAGAIN {
				return false
			}
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				recvErr = err
				return true
			}
			if n == 0 {
				recvErr = io.EOF
				return true
			}
			if oobn > 0 {
				more, perr := parseRights(oob[:oobn])
				if perr != nil {
					recvErr = perr
					return true
				}
				fds = append(fds, more...)
			}
			got += n
		}
		return true
	})
	if err == nil {
		err = recvErr
	}
	if err != nil {
		return m, fds, err
	}
	size := binary.BigEndian.Uint32(header)
	if size > maxFrame {
		return m, fds, fmt.Errorf("protocol: frame of %d bytes is too large", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(c.f, body); err != nil {
		return m, fds, fmt.Errorf("protocol: short frame: %w", err)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fds, fmt.Errorf("protocol: %w", err)
	}
	return m, fds, nil
}

// Expect reads one message and fails unless it has the given type. A
// Failed message becomes an error carrying the child's text.
func (c *Conn) Expect(t MsgType) (Message, []int, error) {
	m, fds, err := c.Recv()
	if err != nil {
		return m, fds, err
	}
	if m.Type == MsgFailed {
		return m, fds, errors.New(m.Error)
	}
	if m.Type != t {
		return m, fds, fmt.Errorf("protocol: expected %s, got %s", t, m.Type)
	}
	return m, fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, msg := range msgs {
		rights, err := unix.ParseUnixRights(&msg)
		if err != nil {
			return nil, err
		}
		fds = append(fds, rights...)
	}
	return fds, nil
}
