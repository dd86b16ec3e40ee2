package slirp

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pair is a host socket and the server's end of its connection.
type pair struct {
	c   *hostConn
	srv net.Conn
}

func newPair(t *testing.T) pair {
	c, srv := dialLoopback(t)
	return pair{c, srv}
}

// closed reports whether the socket has been closed, from the FIN its
// close sends the server.
func (p pair) closed(t *testing.T) bool {
	t.Helper()
	p.srv.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := p.srv.Read(make([]byte, 1))
	if err == io.EOF {
		return true
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("the server read %v", err)
	}
	return false
}

func TestCloseLaterClosesAfterItsDelay(t *testing.T) {
	l := newCloseLater(16 * closeBatch)
	p := newPair(t)
	l.add(p.c)
	if l.waiting() != 1 {
		t.Fatal("closed at once")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !p.closed(t) {
		if time.Now().After(deadline) {
			t.Fatalf("not closed %v after its connection's end", 5*time.Second)
		}
	}
	if l.waiting() != 0 {
		t.Fatalf("%d still waiting", l.waiting())
	}
}

func TestCloseLaterClosesAFullBatchAtOnce(t *testing.T) {
	l := newCloseLater(16 * closeBatch)
	var ps []pair
	for range closeBatch {
		ps = append(ps, newPair(t))
	}
	for _, p := range ps[:closeBatch-1] {
		l.add(p.c)
	}
	if l.waiting() != closeBatch-1 {
		t.Fatalf("%d waiting, want %d", l.waiting(), closeBatch-1)
	}
	l.add(ps[closeBatch-1].c)
	if l.waiting() != 0 {
		t.Fatalf("%d still waiting after a full batch", l.waiting())
	}
	for i, p := range ps {
		if !p.closed(t) {
			t.Fatalf("socket %d still open after a full batch", i)
		}
	}
	if l.waiting() != 0 {
		t.Fatalf("%d still waiting", l.waiting())
	}
}

func TestCloseLaterStop(t *testing.T) {
	l := newCloseLater(16 * closeBatch)
	a, b := newPair(t), newPair(t)
	l.add(a.c)
	l.stop()
	if !a.closed(t) {
		t.Fatal("stop left a waiting socket open")
	}
	l.add(b.c)
	if l.waiting() != 0 || !b.closed(t) {
		t.Fatal("a socket added after stop was not closed at once")
	}
}

// Under a small limit on open files, fewer sockets wait.
func TestCloseLaterBatchFollowsTheShare(t *testing.T) {
	for _, tc := range []struct{ share, want int }{
		{4096, closeBatch}, {128, 8}, {8, 1},
	} {
		if got := newCloseLater(tc.share).batch; got != tc.want {
			t.Errorf("share %d: batch %d, want %d", tc.share, got, tc.want)
		}
	}
}
