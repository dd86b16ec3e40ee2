package userns

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/sbx-sandbox/sbx/spec"
)

// supervised runs supervise over a stand-in for PID 1 (a sleep) while
// child speaks for it, and returns the result. The child's end closes
// after it has spoken, as PID 1's does when it goes.
func supervised(t *testing.T, s *Sandbox, child func(c *Conn)) Result {
	t.Helper()
	proc := exec.Command("sleep", "30")
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proc.Process.Kill() })
	parent, c := connPair(t)
	go func() {
		defer c.Close()
		child(c)
	}()
	if s.Spec == nil {
		s.Spec = &spec.Spec{}
	}
	return s.supervise(proc.Process, proc.Process.Wait, parent, make(chan os.Signal))
}

// sendDevice hands a descriptor back with a message of type typ, as the
// child does with /dev/fuse.
func sendDevice(t *testing.T, c *Conn, typ MsgType) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if err := c.Send(Message{Type: typ}, int(f.Fd())); err != nil {
		t.Error(err)
	}
}

func TestSuperviseServesDevice(t *testing.T) {
	var served string
	s := &Sandbox{Serve: map[MsgType]func(*os.File) error{
		MsgHostFS: func(dev *os.File) error {
			served = dev.Name()
			return dev.Close()
		},
	}}
	res := supervised(t, s, func(c *Conn) {
		sendDevice(t, c, MsgHostFS)
		c.Send(Message{Type: MsgExited, Exit: &Exit{Code: 3}})
	})
	if res.Code != 3 || res.Cause != "exit" || res.Err != nil {
		t.Errorf("result %+v, want the command's exit 3", res)
	}
	if served != "/dev/fuse" {
		t.Errorf("served %q, want the FUSE descriptor", served)
	}
}

// TestSuperviseServeError: the server's error ends the run as it is
// worded, PID 1 killed.
func TestSuperviseServeError(t *testing.T) {
	s := &Sandbox{Serve: map[MsgType]func(*os.File) error{
		MsgHostFS: func(dev *os.File) error {
			dev.Close()
			return errors.New("serve the FUSE view of the host: no")
		},
	}}
	res := supervised(t, s, func(c *Conn) { sendDevice(t, c, MsgHostFS) })
	if res.Code != ExitSetup || res.Err == nil || res.Err.Error() != "serve the FUSE view of the host: no" {
		t.Errorf("result %+v, want the server's own error", res)
	}
}

func TestSuperviseUnexpectedDevice(t *testing.T) {
	res := supervised(t, &Sandbox{}, func(c *Conn) { sendDevice(t, c, MsgHostFS) })
	if res.Code != ExitSetup || res.Err == nil || res.Err.Error() != "protocol: an unexpected FUSE descriptor" {
		t.Errorf("result %+v", res)
	}
}
