package main

import (
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Loads, for the VM suite's limit scripts (testscripts/vm/): memory to
// hit --memory with, CPU time to throttle with --cpus. They print as they
// go, so a script still sees how far one got when the kernel killed it.
func init() {
	// hog keeps every MiB it touched: the memory stays charged to its
	// cgroup until it exits (or the OOM killer ends it).
	addArgs("hog", "MIB", 1, 1, func(a []string) {
		n := atoi(a[0])
		const mib = 1 << 20
		page := unix.Getpagesize()
		var kept [][]byte
		for i := 1; i <= n; i++ {
			b := make([]byte, mib)
			// A fresh allocation is untouched zero pages: write one byte
			// of each page so that the kernel backs it with memory.
			for j := 0; j < mib; j += page {
				b[j] = 1
			}
			kept = append(kept, b)
			if i%16 == 0 {
				fmt.Printf("hog: %d MiB\n", i)
			}
		}
		fmt.Println("hog: done")
		_ = len(kept)
	})
	// spin counts loops of a little arithmetic on the one goroutine, so
	// on one thread, until SECONDS of wall time are over: throttled to
	// half a CPU it does about half the loops, and its CPU time shows it.
	addArgs("spin", "SECONDS", 1, 1, func(a []string) {
		secs, err := strconv.ParseFloat(a[0], 64)
		if err != nil || secs < 0 {
			usage()
		}
		end := time.Now().Add(time.Duration(secs * float64(time.Second)))
		loops, x := 0, uint64(1)
		for time.Now().Before(end) {
			for i := 0; i < 10000; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
			loops++
		}
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		spinSink = x
		fmt.Printf("spin: %d loops, %d ms cpu\n", loops, cpu.Milliseconds())
	})
}

// spinSink keeps the arithmetic of spin from being optimized away.
var spinSink uint64
