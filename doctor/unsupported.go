//go:build !linux

package doctor

import (
	"errors"
	"fmt"
	"os"
)

// sbx sandboxes with Linux namespaces; elsewhere every probe fails and the
// checks report what they can from files, which is nothing.

var errNotLinux = errors.New("sbx needs Linux")

const (
	rOK          = 0x4
	wOK          = 0x2
	xOK          = 0x1
	cgroup2Magic = 0x63677270
	tmpfsMagic   = 0x01021994
	cgroup1Magic = 0x27e0eb
)

// ProbeArg is argv[1] of the probe process.
const ProbeArg = "__probe"

// ProbeMain fails: there are no namespaces to probe.
func ProbeMain(kind string) int {
	fmt.Fprintln(os.Stderr, errNotLinux)
	return 1
}

// RunProbe fails: there are no namespaces to probe.
func RunProbe(kind string) error { return errNotLinux }

func access(path string, mode uint32) error { return errNotLinux }
func fsType(path string) (int64, error)     { return 0, errNotLinux }
func kernelRelease() string                 { return "" }
func hasFileCaps(path string) bool          { return false }
func landlockABI() int                      { return 0 }
