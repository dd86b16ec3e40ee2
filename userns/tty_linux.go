package userns

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// terminal relays the caller's terminal to the command's own pty, whose
// master the child opened inside and handed over. The command never holds
// the caller's terminal, so it cannot push input into it (TIOCSTI).
type terminal struct {
	master  *os.File
	restore func()
	outDone chan struct{}
}

func startTerminal(masterFD int) *terminal {
	t := &terminal{master: os.NewFile(uintptr(masterFD), "pty-master"), outDone: make(chan struct{}), restore: func() {}}
	if state, err := term.MakeRaw(0); err == nil {
		t.restore = func() { term.Restore(0, state) }
	}
	t.resize()
	go io.Copy(t.master, os.Stdin)
	go func() {
		// Ends with EIO once every holder of the pty's other end is gone.
		io.Copy(os.Stdout, t.master)
		close(t.outDone)
	}()
	return t
}

// resize copies the caller's window size to the pty; the kernel then sends
// SIGWINCH to the command's foreground process group if the size changed.
// A caller's terminal of unknown size (0 rows or columns: script(1) with no
// terminal of its own) changes nothing: the pty keeps the default it was
// made with, and the command, which may already be running, gets no signal.
func (t *terminal) resize() {
	ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
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
