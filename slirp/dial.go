package slirp

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hostDialer opens the host side of relayed TCP connections.
//
// Go's dialer parks the goroutine on the network poller after every
// connect(2), and starts another goroutine to watch the context. A connect
// to a local address (the host's loopback, most of what a sandbox reaches
// through the gateway) has completed by the time the system call returns,
// so the park only adds a wake-up, about a tenth of a relayed request's
// time. hostDialer checks the socket at once and waits on the poller only
// when the connection is really still on its way.
type hostDialer struct {
	timeout   time.Duration
	keepAlive time.Duration
	// fallback dials what hostDialer does not handle itself (names, UDP).
	fallback net.Dialer
}

func newHostDialer(timeout, keepAlive time.Duration) *hostDialer {
	return &hostDialer{
		timeout: timeout, keepAlive: keepAlive,
		fallback: net.Dialer{Timeout: timeout, KeepAlive: keepAlive},
	}
}

func (d *hostDialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if network != "tcp" || err != nil {
		return d.fallback.DialContext(ctx, network, address)
	}
	c, err := d.dialTCP(ctx, ap)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	}
	return c, nil
}

func (d *hostDialer) dialTCP(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	family, zone := unix.AF_INET, uint32(0)
	if a := ap.Addr(); !a.Is4() && !a.Is4In6() {
		family = unix.AF_INET6
		if z := a.Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				zone = uint32(ifi.Index)
			}
		}
	}
	fd, err := rawSocket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := d.setOptions(fd); err != nil {
		rawClose(fd)
		return nil, err
	}
	err = rawConnect(fd, ap, zone)
	if err == unix.EINTR {
		// The connection goes on in the background; what becomes of it
		// is read below, as for EINPROGRESS.
		err = unix.EINPROGRESS
	}
	if err != nil && err != unix.EINPROGRESS {
		rawClose(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	c, cerr := newHostConn(fd, net.TCPAddrFromAddrPort(ap))
	if cerr != nil {
		return nil, cerr // newHostConn closed fd
	}
	if err == unix.EINPROGRESS {
		done, err := connected(fd)
		if !done && err == nil {
			err = d.wait(ctx, c.f)
		}
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// setOptions sets what Go's dialer would: no Nagle, keep-alive probes.
func (d *hostDialer) setOptions(fd int) error {
	opts := [][3]int{{unix.IPPROTO_TCP, unix.TCP_NODELAY, 1}}
	if s := int(d.keepAlive / time.Second); s > 0 {
		opts = append(opts,
			[3]int{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
			[3]int{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, s},
			[3]int{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, s})
	}
	for _, o := range opts {
		if err := rawSetsockoptInt(fd, o[0], o[1], o[2]); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	return nil
}

// wait blocks on the poller until the connection on f is made or fails,
// the dial times out or ctx ends.
func (d *hostDialer) wait(ctx context.Context, f *os.File) error {
	deadline := time.Now().Add(d.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := f.SetWriteDeadline(deadline); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	err = rc.Write(func(fd uintptr) bool {
		var done bool
		done, cerr = connected(int(fd))
		return done || cerr != nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// os.ErrDeadlineExceeded says "i/o timeout" and is a net.Error
		// whose Timeout is true, as from Go's dialer.
		return err
	}
	if cerr != nil {
		return cerr
	}
	return f.SetWriteDeadline(time.Time{})
}

// connected reports whether the non-blocking connect on fd has finished,
// and its error if it failed.
func connected(fd int) (bool, error) {
	for {
		ok, err := rawWritable(fd)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("poll", err)
		}
		if !ok {
			return false, nil
		}
		break
	}
	soerr, err := rawGetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return false, os.NewSyscallError("getsockopt", err)
	}
	if soerr != 0 {
		return false, os.NewSyscallError("connect", syscall.Errno(soerr))
	}
	return true, nil
}
