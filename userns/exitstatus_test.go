package userns

import (
	"errors"
	"syscall"
	"testing"
)

func TestStatusFromWait(t *testing.T) {
	tests := []struct {
		name         string
		ws           syscall.WaitStatus
		code, signal int
	}{
		{"exit 0", 0, 0, 0},
		{"exit 3", 3 << 8, 3, 0},
		{"exit 255", 255 << 8, 255, 0},
		{"exit 124 passes through", 124 << 8, 124, 0},
		{"SIGKILL", syscall.WaitStatus(syscall.SIGKILL), 137, 9},
		{"SIGTERM", syscall.WaitStatus(syscall.SIGTERM), 143, 15},
		{"SIGSEGV with core", syscall.WaitStatus(syscall.SIGSEGV) | 0x80, 139, 11},
		{"stopped", 0x7f | syscall.WaitStatus(syscall.SIGSTOP)<<8, ExitSetup, 0},
	}
	for _, tt := range tests {
		code, sig := StatusFromWait(tt.ws)
		if code != tt.code || sig != tt.signal {
			t.Errorf("%s: StatusFromWait(%#x) = %d, %d; want %d, %d", tt.name, uint32(tt.ws), code, sig, tt.code, tt.signal)
		}
	}
}

func TestExecFailureStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{syscall.ENOENT, 127},
		{syscall.EACCES, 126},
		{syscall.ENOEXEC, 126},
		{syscall.EPERM, 126},
		{syscall.ETXTBSY, 126},
		{errors.New("other"), 126},
	}
	for _, tt := range tests {
		if got := ExecFailureStatus(tt.err); got != tt.want {
			t.Errorf("ExecFailureStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if ExitTimeout != 124 || ExitSetup != 125 || ExitNotExecutable != 126 || ExitNotFound != 127 {
		t.Error("documented exit statuses changed")
	}
}
