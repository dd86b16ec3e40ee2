package userns

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/sbx-sandbox/sbx/rootfs"
)

// RemoveInNamespace removes dir from inside a user namespace with the run's
// id maps. A run with subordinate ids leaves files and directories owned by
// ids the caller cannot delete from outside; as root inside, it can.
func RemoveInNamespace(dir string, m Maps) error {
	cmd, start, err := startInNamespace(m, nil, nil, RemoveArg, dir)
	if err != nil {
		return err
	}
	start.Close() // the maps are written: go
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("remove %s in a user namespace: %w", dir, err)
	}
	return nil
}

// startInNamespace starts `sbx ARGS...` as root in a new user namespace
// with the run's id maps (all capabilities there, none outside), extra as
// its fds 3 and up. Its stdin is the returned pipe: the maps are written
// when it comes back, and the helper waits for it to close (it may carry
// a request first).
func startInNamespace(m Maps, stdout io.Writer, extra []*os.File, args ...string) (*exec.Cmd, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin = r
	cmd.Stdout = stdout
	cmd.Stderr = os.Stderr
	cmd.Env = []string{}
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, Pdeathsig: syscall.SIGKILL, AmbientCaps: AllCaps(LastCap())}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	if err := WriteMaps(cmd.Process.Pid, m); err != nil {
		w.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return nil, nil, err
	}
	return cmd, w, nil
}

// RemoveMain is the entry of `sbx __rmtree DIR`: it waits until its stdin
// closes (the maps are written) and removes DIR.
func RemoveMain(dir string) int {
	io.Copy(io.Discard, os.Stdin)
	// The lock goes last: a removal that fails half-way still leaves a
	// directory that the next run finds stale.
	if err := rootfs.RemoveState(dir); err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", err)
		return 1
	}
	return 0
}
