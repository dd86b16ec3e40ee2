package slirp

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// dialLoopback returns a hostConn to a listener on 127.0.0.1 and the
// accepted server side.
func dialLoopback(t *testing.T) (*hostConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := newHostDialer(time.Second, keepalive).dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); srv.Close() })
	return c.(*hostConn), srv
}

// More than the sockets buffer both ways, so that writes meet a full
// socket and wait in the poller, and reads find it empty.
func TestHostConnCarriesBothWays(t *testing.T) {
	c, srv := dialLoopback(t)
	data := make([]byte, 16<<20)
	rand.Read(data)
	go func() {
		c.Write(data)
		c.CloseWrite()
	}()
	got, err := io.ReadAll(srv)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("server read %d bytes (%v), want the %d written", len(got), err, len(data))
	}
	go func() {
		srv.Write(data)
		srv.Close()
	}()
	got, err = io.ReadAll(c)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes (%v), want the %d written", len(got), err, len(data))
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read after the end: %d, %v; want io.EOF", n, err)
	}
}

func TestHostConnResetWithLingerZero(t *testing.T) {
	c, srv := dialLoopback(t)
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close()
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the peer read %v, want a reset", err)
	}
}

// A write to a peer that has reset fails with an error; it does not raise
// SIGPIPE, which would end the test binary.
func TestHostConnWriteToResetPeer(t *testing.T) {
	c, srv := dialLoopback(t)
	srv.(*net.TCPConn).SetLinger(0)
	srv.Close()
	buf := make([]byte, 64<<10)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = c.Write(buf)
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write to a reset peer: %v", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "write" {
		t.Errorf("error %#v is not a write OpError", err)
	}
}

func TestHostConnDeadlineAndClose(t *testing.T) {
	c, _ := dialLoopback(t)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read during close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read in progress did not end with the close")
	}
}
