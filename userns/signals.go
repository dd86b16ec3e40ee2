package userns

import (
	"os"
	"syscall"
)

// Forwarded are the signals sbx passes on to the command. SIGURG is never
// among them: the Go runtime uses it to preempt goroutines.
var Forwarded = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
}
