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
		pending := pendingLines(0, ptyEOF(masterFD))
		if state, err := term.MakeRaw(0); err == nil {
			t.restore = func() { term.Restore(0, state) }
		}
		go func() {
			t.master.Write(pending)
			io.Copy(t.master, os.Stdin)
		}()
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

// pendingLines takes what the terminal on fd already holds as whole lines
// and end-of-file marks, read in its own mode before sbx makes it raw, with
// each end of file as eof, the pty's own end-of-file character. A ^D that
// came before sbx started (script(1) sends one when its input ends) waits
// in the terminal as an end-of-file mark; once the terminal is raw, the
// kernel hands that mark out as a NUL byte instead, which the command would
// read as data (a cat waiting for more, for ever) and its pty would echo
// as ^@. poll says whether a read would return at once, so nothing here
// waits for input; a line still being typed stays for the raw copy.
func pendingLines(fd int, eof byte) []byte {
	var pending []byte
	buf := make([]byte, 4096)
	for range 64 {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 0); err != nil || n == 0 || fds[0].Revents != unix.POLLIN {
			break
		}
		n, err := unix.Read(fd, buf)
		if err != nil || n < 0 {
			break
		}
		if n == 0 {
			pending = append(pending, eof)
			continue
		}
		pending = append(pending, buf[:n]...)
	}
	return pending
}

// ptyEOF is the end-of-file character of the pty whose master is fd.
func ptyEOF(fd int) byte {
	if t, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil && t.Cc[unix.VEOF] != 0 {
		return t.Cc[unix.VEOF]
	}
	return 4 // ^D, the default
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
