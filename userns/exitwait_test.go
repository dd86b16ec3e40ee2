package userns

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// waitProcess reaps a process that exits while it waits, one killed by a
// signal, and one that had exited before it was called, each with its own
// status, as os.Process.Wait reports it.
func TestWaitProcess(t *testing.T) {
	start := func(args ...string) *os.Process {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd.Process
	}
	st, err := waitProcess(start("sh", "-c", "sleep 0.1; exit 7"))
	if err != nil || st.ExitCode() != 7 {
		t.Errorf("an exit while waiting: %v, %v", st, err)
	}
	p := start("sleep", "10")
	go func() {
		time.Sleep(50 * time.Millisecond)
		p.Kill()
	}()
	st, err = waitProcess(p)
	if err != nil || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("a kill while waiting: %v, %v", st, err)
	}
	p = start("true")
	time.Sleep(100 * time.Millisecond) // a zombie by now
	st, err = waitProcess(p)
	if err != nil || !st.Success() {
		t.Errorf("an exit before the wait: %v, %v", st, err)
	}
}
