package userns

import (
	"errors"
	"syscall"
)

// Exit statuses of sbx, as documented in the README.
const (
	ExitTimeout       = 124 // --timeout expired
	ExitSetup         = 125 // sbx itself failed: bad flag, host cannot sandbox
	ExitNotExecutable = 126
	ExitNotFound      = 127
)

// StatusFromWait maps a wait status to sbx's exit status: the command's own
// code, or 128+N when signal N killed it.
func StatusFromWait(ws syscall.WaitStatus) (code int, signal int) {
	switch {
	case ws.Exited():
		return ws.ExitStatus(), 0
	case ws.Signaled():
		return 128 + int(ws.Signal()), int(ws.Signal())
	}
	return ExitSetup, 0
}

// ExecFailureStatus maps the error from starting the command: 127 when no
// such file exists, 126 when it exists but cannot be executed.
func ExecFailureStatus(err error) int {
	if errors.Is(err, syscall.ENOENT) {
		return ExitNotFound
	}
	return ExitNotExecutable
}
