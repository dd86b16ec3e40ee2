package userns

import (
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a new pty pair in its default (canonical) mode.
func openPTY(t *testing.T) (master, peer *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pty: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY))
	if errno != 0 {
		t.Fatal(errno)
	}
	p := os.NewFile(fd, "pty-peer")
	t.Cleanup(func() { p.Close() })
	return m, p
}

// waitReadable waits until the line discipline, which runs after a write
// to the master has returned, has a whole line for the peer.
func waitReadable(t *testing.T, peer *os.File) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(peer.Fd()), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 10_000); err != nil || n != 1 {
		t.Fatalf("the pty never had a line to read: %d, %v", n, err)
	}
}

// What was typed before sbx made the terminal raw is passed on as typed:
// whole lines as they are, an end-of-file mark as the pty's ^D, never as
// the NUL byte the kernel hands out for that mark once the terminal is raw.
func TestPendingLinesKeepsEndOfFile(t *testing.T) {
	master, peer := openPTY(t)
	if _, err := master.Write([]byte("first line\n\x04second\n\x04")); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, peer)
	got := pendingLines(int(peer.Fd()), 4)
	if want := "first line\n\x04second\n\x04"; string(got) != want {
		t.Fatalf("pendingLines = %q, want %q", got, want)
	}
}

// A line still being typed is left for the raw copy, and nothing waits
// for its end.
func TestPendingLinesLeavesAPartialLine(t *testing.T) {
	master, peer := openPTY(t)
	if _, err := master.Write([]byte("done\npart")); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, peer)
	// A read of the partial line would wait here for ever.
	got := pendingLines(int(peer.Fd()), 4)
	if string(got) != "done\n" {
		t.Fatalf("pendingLines = %q, want %q", got, "done\n")
	}
	if got := pendingLines(int(peer.Fd()), 4); len(got) != 0 {
		t.Fatalf("pendingLines on nothing new = %q", got)
	}
}

func TestPtyEOFIsTheDefault(t *testing.T) {
	master, _ := openPTY(t)
	if got := ptyEOF(int(master.Fd())); got != 4 {
		t.Fatalf("ptyEOF = %d, want 4 (^D)", got)
	}
}

// The relay writes the pty's output through the caller's own standard
// file: once it ends, nothing left to the collector closes descriptor 1
// under sbx, which still reports on it after the command.
func TestTerminalLeavesTheCallersDescriptorsOpen(t *testing.T) {
	m, peer := openPTY(t)
	master, err := unix.Dup(int(m.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	term := startTerminal(master, [3]bool{false, true, false})
	peer.Close()
	term.finish()
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := unix.FcntlInt(1, unix.F_GETFD, 0); err != nil {
		t.Fatalf("descriptor 1 after the relay: %v", err)
	}
}
