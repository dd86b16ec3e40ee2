package slirp

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hostConn is the host side of a relayed TCP connection: a non-blocking
// socket in Go's poller, read and written with raw system calls
// (rawsys.go). A *net.TCPConn would enter the kernel the usual way for
// every read and write; net.FileConn, which would make one, costs seven
// more system calls per connection (a duplicate, its flags, its type and
// both addresses).
type hostConn struct {
	f      *os.File
	rc     syscall.RawConn
	remote *net.TCPAddr
	closed atomic.Bool
}

func newHostConn(fd int, remote *net.TCPAddr) (*hostConn, error) {
	f := os.NewFile(uintptr(fd), "tcp")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &hostConn{f: f, rc: rc, remote: remote}, nil
}

func (c *hostConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = rawRead(int(fd), p)
			if rerr != unix.EINTR {
				return rerr != unix.EAGAIN
			}
		}
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case rerr != nil:
		return 0, c.opError("read", os.NewSyscallError("read", rerr))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *hostConn) Write(p []byte) (int, error) {
	done := 0
	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			n, e := rawSend(int(fd), p[done:])
			switch e {
			case nil:
				done += n
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				werr = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return done, c.opError("write", err)
	case werr != nil:
		return done, c.opError("write", os.NewSyscallError("write", werr))
	}
	return done, nil
}

// CloseWrite sends the host a FIN: the sandbox's side has ended.
func (c *hostConn) CloseWrite() error {
	return c.control(func(fd int) error { return rawShutdown(fd, unix.SHUT_WR) })
}

// SetLinger(0) makes the close a reset, as (*net.TCPConn).SetLinger does.
func (c *hostConn) SetLinger(sec int) error {
	return c.control(func(fd int) error { return rawSetLinger(fd, sec) })
}

func (c *hostConn) control(f func(fd int) error) error {
	var ferr error
	if err := c.rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func (c *hostConn) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}

func (c *hostConn) LocalAddr() net.Addr {
	var local net.Addr
	c.rc.Control(func(fd uintptr) {
		sa, err := unix.Getsockname(int(fd))
		if err != nil {
			return
		}
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			local = &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
		case *unix.SockaddrInet6:
			local = &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
		}
	})
	return local
}

func (c *hostConn) RemoteAddr() net.Addr               { return c.remote }
func (c *hostConn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *hostConn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *hostConn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// opError wraps err as a *net.TCPConn's would be: the poller's error for
// a closed descriptor becomes net.ErrClosed.
func (c *hostConn) opError(op string, err error) error {
	if c.closed.Load() && !errors.Is(err, os.ErrDeadlineExceeded) {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "tcp", Addr: c.remote, Err: err}
}
