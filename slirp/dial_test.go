package slirp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestHostDialConnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := newHostDialer(time.Second, keepalive).dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hc, ok := c.(*hostConn)
	if !ok {
		t.Fatalf("dial gave %T, want *hostConn", c)
	}
	if c.RemoteAddr().String() != ln.Addr().String() {
		t.Errorf("remote address %s, want %s", c.RemoteAddr(), ln.Addr())
	}
	if la, ok := c.LocalAddr().(*net.TCPAddr); !ok || !la.IP.IsLoopback() || la.Port == 0 {
		t.Errorf("local address %v", c.LocalAddr())
	}
	hc.rc.Control(func(fd uintptr) {
		if v, _ := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY); v == 0 {
			t.Error("Nagle left on")
		}
		if v, _ := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE); v == 0 {
			t.Error("keep-alive off")
		}
		if v, _ := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE); v != int(keepalive/time.Second) {
			t.Errorf("keep-alive idle %d s, want %v", v, keepalive)
		}
		if v, _ := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPINTVL); v != int(keepalive/time.Second) {
			t.Errorf("keep-alive interval %d s, want %v", v, keepalive)
		}
		if fl, _ := unix.FcntlInt(fd, unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
			t.Error("the socket blocks")
		}
	})
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestHostDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = newHostDialer(time.Second, keepalive).dial(context.Background(), "tcp", addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	if got := dialError(err); got != "connect: connection refused" {
		t.Errorf("logged as %q", got)
	}
}

// A listener whose accept queue is full drops SYNs: a connect to it stays
// in progress, and the dial waits on the poller until it gives up.
func TestHostDialWaitsAndTimesOut(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := net.TCPAddrFromAddrPort(netipAddrPort(sa.(*unix.SockaddrInet4))).String()
	d := newHostDialer(300*time.Millisecond, keepalive)
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	var last error
	for range 4 {
		start := time.Now()
		c, err := d.dial(context.Background(), "tcp", addr)
		if err != nil {
			last = err
			if time.Since(start) < 250*time.Millisecond {
				t.Fatalf("failed after %v, before the timeout: %v", time.Since(start), err)
			}
			break
		}
		open = append(open, c)
	}
	var ne net.Error
	if !errors.As(last, &ne) || !ne.Timeout() {
		t.Fatalf("dial to a full queue: %v, want a timeout", last)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = newHostDialer(10*time.Second, keepalive).dial(ctx, "tcp", addr)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancelled dial: %v after %v", err, time.Since(start))
	}
}

func netipAddrPort(sa *unix.SockaddrInet4) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
}
