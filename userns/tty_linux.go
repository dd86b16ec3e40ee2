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
// SIGWINCH to the command's foreground process group.
func (t *terminal) resize() {
	ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
	if err != nil {
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
