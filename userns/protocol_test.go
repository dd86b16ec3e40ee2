package userns

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
)

// connPair returns both ends of a unix stream socket pair.
func connPair(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := NewConn(os.NewFile(uintptr(fds[0]), "a"))
	b := NewConn(os.NewFile(uintptr(fds[1]), "b"))
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestSendRecvLargeSetup(t *testing.T) {
	parent, child := connPair(t)
	plan := &rootfs.Plan{Driver: rootfs.DriverKernel, KeepUpper: true}
	for i := 0; i < 20000; i++ {
		n := strconv.Itoa(i)
		plan.Ops = append(plan.Ops, rootfs.Op{Kind: rootfs.OpOverlay, Source: "/usr/share/" + n, Target: "/usr/share/" + n,
			Upper: "/var/tmp/sbx-1000/run-1/upper/" + n, Work: "/var/tmp/sbx-1000/run-1/work/" + n})
	}
	plan.Layers = []rootfs.Layer{{Target: "/etc", Lower: "/etc", Upper: "/u/0"}}
	want := Message{Type: MsgSetup, Setup: &Setup{
		Spec:    &spec.Spec{Command: []string{"sh", "-c", "echo ü"}, Hostname: "sbx", Workdir: "/w", Env: []string{"PATH=/bin"}, Rootfs: spec.RootfsCOW},
		Plan:    plan,
		NewRoot: "/var/tmp/sbx-1000/run-1/root",
	}}
	errc := make(chan error, 1)
	go func() { errc <- parent.Send(want) }()
	got, fds, err := child.Expect(MsgSetup)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(fds) != 0 {
		t.Errorf("received %d descriptors, want none", len(fds))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Setup did not survive the round trip: %d ops, spec %+v", len(got.Setup.Plan.Ops), got.Setup.Spec)
	}
	// The next frame starts where this one ended.
	go func() { errc <- parent.Send(Message{Type: MsgSignalAll, Signal: 15}) }()
	m, _, err := child.Expect(MsgSignalAll)
	if err != nil || m.Signal != 15 {
		t.Errorf("next message = %+v, %v; want signal-all 15", m, err)
	}
	<-errc
}

func TestSendRecvDescriptor(t *testing.T) {
	parent, child := connPair(t)
	dup, err := unix.Dup(int(os.Stdin.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dup)
	errc := make(chan error, 1)
	go func() { errc <- child.Send(Message{Type: MsgTerminal}, dup) }()
	m, fds, err := parent.Expect(MsgTerminal)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if m.Type != MsgTerminal || len(fds) != 1 {
		t.Fatalf("got %+v with fds %v, want terminal with one fd", m, fds)
	}
	defer unix.Close(fds[0])
	var sent, got unix.Stat_t
	if err := unix.Fstat(dup, &sent); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(fds[0], &got); err != nil {
		t.Fatal(err)
	}
	if sent.Dev != got.Dev || sent.Ino != got.Ino || fds[0] == dup {
		t.Errorf("received fd %d (dev %d ino %d), want a new fd for dev %d ino %d", fds[0], got.Dev, got.Ino, sent.Dev, sent.Ino)
	}
	if flags, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received fd flags %#x, %v; want close-on-exec", flags, err)
	}
}

func TestExpectFailedAndWrongType(t *testing.T) {
	parent, child := connPair(t)
	send := func(m Message) {
		t.Helper()
		if err := child.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	send(Message{Type: MsgFailed, Error: "mount /usr: permission denied"})
	if _, _, err := parent.Expect(MsgReady); err == nil || err.Error() != "mount /usr: permission denied" {
		t.Errorf("Expect on failed: err = %v, want the child's text", err)
	}
	send(Message{Type: MsgExited, Exit: &Exit{Code: 3}})
	m, _, err := parent.Expect(MsgReady)
	if err == nil || err.Error() != "protocol: expected ready, got exited" {
		t.Errorf("Expect of the wrong type: err = %v", err)
	}
	if m.Exit == nil || m.Exit.Code != 3 {
		t.Errorf("message = %+v, want it returned with the error", m)
	}
	child.Close()
	if _, _, err := parent.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv after the peer closed: %v, want EOF", err)
	}
}

func TestRecvBadFrames(t *testing.T) {
	tests := []struct {
		name   string
		frame  []byte
		errHas string
	}{
		{"too large", binary.BigEndian.AppendUint32(nil, 64<<20+1), "too large"},
		{"huge", []byte{0xff, 0xff, 0xff, 0xff}, "too large"},
		{"short", append(binary.BigEndian.AppendUint32(nil, 100), `{"type":`...), "short frame"},
		{"not json", append(binary.BigEndian.AppendUint32(nil, 5), "hello"...), "protocol:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			r := NewConn(os.NewFile(uintptr(fds[0]), "r"))
			defer r.Close()
			if _, err := unix.Write(fds[1], tt.frame); err != nil {
				t.Fatal(err)
			}
			unix.Close(fds[1])
			_, _, err = r.Recv()
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("Recv = %v, want an error containing %q", err, tt.errHas)
			}
		})
	}
}
