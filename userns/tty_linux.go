package userns

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
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
	if makesRaw(ttys) {
		pending := pendingLines(0, ptyEOF(masterFD))
		if restore, err := makeRaw(0, !ttys[1]); err == nil {
			t.restore = restore
		}
		go func() {
			t.master.Write(pending)
			io.Copy(t.master, os.Stdin)
		}()
	}
	t.resize()
	// The standard files themselves: a second *os.File for the same
	// descriptor would close it when collected.
	out := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}[outputFD(ttys)]
	go func() {
		// Ends with EIO once every holder of the pty's other end is gone.
		io.Copy(drainOnError{out}, t.master)
		close(t.outDone)
	}()
	return t
}

// makesRaw says whether sbx puts the caller's terminal on stdin in raw
// mode and relays what is typed there to the pty.
func makesRaw(ttys [3]bool) bool {
	return ttys[0] && inForeground(0)
}

// outputFD is the caller's descriptor that shows what the pty shows: its
// stdout, else its stderr, else (only stdin is one) the terminal on stdin,
// where typed input is echoed.
func outputFD(ttys [3]bool) int {
	switch {
	case ttys[1]:
		return 1
	case ttys[2]:
		return 2
	}
	return 0
}

// OutputTranslated reports whether the caller's terminal that will show
// the pty's output keeps translating newlines to CR LF during the run:
// sbx leaves its mode alone (it makes only the terminal on stdin raw, and
// only in the foreground), and its output processing is on. The pty must
// then not translate them too.
func OutputTranslated(ttys [3]bool) bool {
	out := outputFD(ttys)
	if makesRaw(ttys) && ttys[1] && sameTerminal(0, out) {
		return false
	}
	t, err := unix.IoctlGetTermios(out, unix.TCGETS)
	return err == nil && t.Oflag&unix.OPOST != 0 && t.Oflag&unix.ONLCR != 0
}

// makeRaw puts the terminal on fd in raw mode, as cfmakeraw(3) does, and
// returns what gives it back its mode. With keepOutput, only its input is
// made raw and its output processing stays: the command's stdout is not on
// the pty (a pipe: `sbx run -- make | tee log`), so what the terminal
// shows meanwhile is mostly other programs' output (tee's, cat's), which
// would lose its CRs on a terminal that no longer translates newlines, and
// the pty, which then shows only the command's stderr and the echo of
// what is typed, leaves newlines to the terminal (OutputTranslated). With
// the command's stdout on the pty, the terminal is wholly raw: a
// full-screen program inside sets its own pty's mode, and the terminal
// must pass its bytes as they are.
func makeRaw(fd int, keepOutput bool) (restore func(), err error) {
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	if !keepOutput {
		raw.Oflag &^= unix.OPOST
	}
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, saved) }, nil
}

// sameTerminal reports whether descriptors a and b are the same terminal.
func sameTerminal(a, b int) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(a, &sa) != nil || unix.Fstat(b, &sb) != nil {
		return false
	}
	return sa.Rdev == sb.Rdev
}

// leaveNewlines turns off the pty's own newline translation (ONLCR), for
// a caller's terminal that translates them itself.
func leaveNewlines(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Oflag &^= unix.ONLCR
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
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
