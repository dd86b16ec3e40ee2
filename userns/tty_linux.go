package userns

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// terminal relays the caller's terminal to the command's own pty, whose
// master the child opened inside and handed over. The command never holds
// the caller's terminal, so it cannot push input into it (TIOCSTI). Only
// the caller's descriptors that are terminals go through the pty (ttys);
// the others reach the command directly.
type terminal struct {
	master  *os.File
	ttyFD   int // a caller's descriptor that is the terminal, for its size
	restore func()
	outDone chan struct{}
}

func startTerminal(masterFD int, ttys [3]bool) *terminal {
	t := &terminal{master: os.NewFile(uintptr(masterFD), "pty-master"), outDone: make(chan struct{}), restore: func() {}}
	for fd := 2; fd >= 0; fd-- {
		if ttys[fd] {
			t.ttyFD = fd
		}
	}
	// Input and the terminal's mode belong to the foreground: sbx started
	// in the background of a job-control shell leaves them alone, as any
	// program there must (a mode change would stop it with SIGTTOU, a
	// read with SIGTTIN).
	if ttys[0] && inForeground(0) {
		if state, err := term.MakeRaw(0); err == nil {
			t.restore = func() { term.Restore(0, state) }
		}
		go io.Copy(t.master, os.Stdin)
	}
	t.resize()
	// What the pty shows goes to the caller's terminal: its stdout, else
	// its stderr, else (only stdin is one) the terminal on stdin, where
	// typed input is echoed.
	out := os.Stdin
	if ttys[1] {
		out = os.Stdout
	} else if ttys[2] {
		out = os.Stderr
	}
	go func() {
		// Ends with EIO once every holder of the pty's other end is gone.
		io.Copy(drainOnError{out}, t.master)
		close(t.outDone)
	}()
	return t
}

// inForeground reports whether sbx is in the foreground process group of
// the terminal on fd.
func inForeground(fd int) bool {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// drainOnError writes to w until a write fails, then discards: the pty
// must be drained, or the command's writes to it would block.
type drainOnError struct{ w io.Writer }

func (d drainOnError) Write(p []byte) (int, error) {
	if d.w != nil {
		if _, err := d.w.Write(p); err == nil {
			return len(p), nil
		}
	}
	return len(p), nil
}

// resize copies the caller's window size to the pty; the kernel then sends
// SIGWINCH to the command's foreground process group if the size changed.
// A caller's terminal of unknown size (0 rows or columns: script(1) with no
// terminal of its own) changes nothing: the pty keeps the default it was
// made with, and the command, which may already be running, gets no signal.
func (t *terminal) resize() {
	ws, err := unix.IoctlGetWinsize(t.ttyFD, unix.TIOCGWINSZ)
	if err != nil || ws.Row == 0 || ws.Col == 0 {
		return
	}
	unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
}

// finish waits for the last output and gives the caller its terminal back.
func (t *terminal) finish() {
	<-t.outDone
	t.master.Close()
	t.restore()
}
