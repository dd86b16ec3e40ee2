package userns

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The parent's end of the socket to PID 1 is served by Go's poller: a
// goroutine waiting on it holds no P, so a message wakes its reader at
// once however many of the parent's goroutines sit in blocking calls. The
// reader sees the deadline fire, which only a pollable descriptor can.
// The child's end is left to PID 1, which makes its own non-blocking.
func TestParentSocketIsPolled(t *testing.T) {
	parent, child, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	if err := parent.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatalf("the parent's end takes no deadline, so it is not polled: %v", err)
	}
	if _, err := parent.Read(make([]byte, 1)); err == nil {
		t.Fatal("a read with nothing sent returned")
	}
	flags, err := unix.FcntlInt(child.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("the child's end is non-blocking before PID 1 has it")
	}
	// Messages still cross both ways.
	if err := NewConn(child).Send(Message{Type: MsgReady}); err != nil {
		t.Fatal(err)
	}
	parent.SetReadDeadline(time.Time{})
	if _, _, err := NewConn(parent).Expect(MsgReady); err != nil {
		t.Fatal(err)
	}
}
