package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/sbx-sandbox/sbx/internal/threads"
)

// forkbomb is a fork bomb that does not give up, for --pids: every copy
// starts two more copies of itself, retrying whenever the kernel refuses
// (a shell's fork bomb dies out instead: a shell whose fork fails exits).
// The first copy stops after SECONDS and says how many starts were
// refused; the copies stay until the sandbox ends.
func init() {
	addArgs("forkbomb", "SECONDS", 1, 1, func(a []string) {
		secs, err := strconv.ParseFloat(a[0], 64)
		if err != nil || secs <= 0 {
			usage()
		}
		end := time.Now().Add(time.Duration(secs * float64(time.Second)))
		// The first copy must live to report: a Go program that cannot
		// start a thread when it needs one dies, so it takes what it
		// needs before the limit is reached (sbx's PID 1 does the same).
		threads.Hold(4)
		started, refused := 0, 0
		for time.Now().Before(end) {
			if err := startCopy(); err != nil {
				refused++
				time.Sleep(time.Millisecond)
				continue
			}
			started++
		}
		fmt.Printf("forkbomb: %d started, %d refused\n", started, refused)
	})
	addArgs("forkbomb-copy", "", 0, 0, func([]string) {
		for n := 0; n < 2; {
			if startCopy() == nil {
				n++
				continue
			}
			time.Sleep(time.Millisecond)
		}
		select {}
	})
}

// startCopy starts another copy of the bomb; EAGAIN is the limit.
func startCopy() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	_, err = syscall.ForkExec(exe, []string{"probe", "forkbomb-copy"}, &syscall.ProcAttr{})
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		fmt.Fprintln(os.Stderr, "forkbomb:", err)
	}
	return err
}
