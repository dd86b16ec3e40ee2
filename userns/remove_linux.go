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
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer w.Close()
	cmd := exec.Command("/proc/self/exe", RemoveArg, dir)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin = r
	cmd.Stderr = os.Stderr
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, Pdeathsig: syscall.SIGKILL, AmbientCaps: AllCaps(LastCap())}
	err = cmd.Start()
	r.Close()
	if err != nil {
		return err
	}
	if err := WriteMaps(cmd.Process.Pid, m); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	w.Close() // the maps are written: go
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("remove %s in a user namespace: %w", dir, err)
	}
	return nil
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
