package vm

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// DefaultBusybox is where Debian's busybox-static puts its binary.
const DefaultBusybox = "/bin/busybox"

// Options says what to boot. The zero value boots the main suite.
type Options struct {
	// Suite is the directory of scripts under testscripts/vm to run: ""
	// for testscripts/vm itself, "bench" for testscripts/vm/bench.
	Suite string
	// Run, when set, runs only the scripts whose name (without .sh)
	// matches this extended regular expression (busybox grep -E); it
	// cannot hold spaces (it travels on the kernel command line).
	Run string
	// Kernel is the kernel to boot; zero: FindKernel.
	Kernel Kernel
	// Root is the sbx module's root; "": where the go command finds it.
	Root string
	// Busybox is a static busybox binary; "": DefaultBusybox.
	Busybox string
	// Console gets the serial console as it comes, line by line (and
	// qemu's own messages); nil discards it.
	Console io.Writer
	// Timeout bounds the whole boot, qemu is killed after it; 0: 10 min.
	Timeout time.Duration
	// MemoryMiB and CPUs size the VM; 0: 2048 MiB, 2 CPUs.
	MemoryMiB, CPUs int
	// DiskMiB is the size of the raw virtio disk, /dev/vda; 0: 64 MiB.
	DiskMiB int
	// Dir holds the build and the images; "": a temporary directory,
	// removed after.
	Dir string
}

var suiteName = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

func (o *Options) defaults(ctx context.Context) error {
	if !suiteName.MatchString(o.Suite) {
		return fmt.Errorf("suite %q: a directory name under testscripts/vm", o.Suite)
	}
	if strings.ContainsAny(o.Run, " \t\n\"") {
		return fmt.Errorf("Run %q: no spaces or quotes (it goes on the kernel command line)", o.Run)
	}
	if o.Kernel == (Kernel{}) {
		k, err := FindKernel()
		if err != nil {
			return err
		}
		o.Kernel = k
	}
	if o.Root == "" {
		root, err := moduleRoot(ctx)
		if err != nil {
			return err
		}
		o.Root = root
	}
	if o.Busybox == "" {
		o.Busybox = DefaultBusybox
	}
	if o.Console == nil {
		o.Console = io.Discard
	}
	o.Console = &syncWriter{w: o.Console}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = 2048
	}
	if o.CPUs == 0 {
		o.CPUs = 2
	}
	if o.DiskMiB == 0 {
		o.DiskMiB = 64
	}
	return nil
}
