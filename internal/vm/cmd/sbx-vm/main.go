// Command sbx-vm boots a suite of the VM scripts (testscripts/vm) the way
// TestVM does and prints the console: for benchmarks (bench/) and for
// working on one script.
//
//	go run ./internal/vm/cmd/sbx-vm [-suite bench] [-run REGEXP] [-timeout 10m]
//
// It exits 0 when every script passed, 1 otherwise. The kernel comes from
// SBX_VM_KERNEL and SBX_VM_MODULES, else from where .ci/run puts it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/sbx-sandbox/sbx/internal/vm"
)

func main() {
	var o vm.Options
	flag.StringVar(&o.Suite, "suite", "", `the scripts to run: "" for testscripts/vm, NAME for testscripts/vm/NAME`)
	flag.StringVar(&o.Run, "run", "", "only the scripts whose name matches this extended regular expression")
	flag.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "kill the VM after this long")
	flag.IntVar(&o.MemoryMiB, "m", 2048, "the VM's memory, MiB")
	flag.IntVar(&o.CPUs, "smp", 2, "the VM's CPUs")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := vm.Missing(); err != nil {
		fmt.Fprintln(os.Stderr, "sbx-vm:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o.Console = os.Stdout
	res, err := vm.Boot(ctx, o)
	if res != nil {
		fmt.Fprintf(os.Stderr, "sbx-vm: boot to the first script %v, qemu's whole run %v\n",
			res.BootTime.Round(10*time.Millisecond), res.Wall.Round(10*time.Millisecond))
	}
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbx-vm:", err)
		os.Exit(1)
	}
}
