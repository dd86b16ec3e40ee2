package userns

import (
	"os"

	"golang.org/x/sys/unix"
)

// waitProcess waits for proc to exit and reaps it. os.Process.Wait blocks
// in waitid, which holds one of the parent's Ps for the whole run: with
// the FUSE server's readers also in blocking reads, a goroutine that has
// work (a request, a message) can wait for sysmon to take a P back. So the
// wait happens on the process's pidfd through Go's poller, and Wait only
// reaps what has already exited. Where the pidfd cannot be had, Wait
// blocks as before.
func waitProcess(proc *os.Process) (*os.ProcessState, error) {
	awaitExit(proc.Pid)
	return proc.Wait()
}

// awaitExit returns once process pid has exited (or at once, if the
// poller cannot watch it).
func awaitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Read(func(fd uintptr) bool {
		// A pidfd reads ready once its process has exited; false waits
		// for the poller to say so.
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err != unix.EINTR && (err != nil || n > 0)
	})
}
