package run

import (
	"os"
	"runtime"
	"testing"

	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/userns"
)

func init() {
	// As sbx's own init does: the entries below run on the process's
	// first thread, pinned to it.
	runtime.LockOSThread()
}

// TestMain lets this test binary be what a run starts as /proc/self/exe:
// the sandbox's init, and the helpers of the changes, the removal and the
// probes (sbx's main dispatches them the same way).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch arg := os.Args[1]; {
		case arg == userns.InitArg:
			os.Exit(userns.InitMain())
		case arg == userns.ExecArg:
			os.Exit(userns.ExecMain())
		case arg == userns.ChangesArg:
			os.Exit(userns.ChangesMain())
		case arg == userns.RemoveArg && len(os.Args) == 3:
			os.Exit(userns.RemoveMain(os.Args[2]))
		case arg == doctor.ProbeArg && len(os.Args) == 3:
			os.Exit(doctor.ProbeMain(os.Args[2]))
		}
	}
	os.Exit(m.Run())
}

var (
	gap  = runtest.Gap
	must = runtest.Must
)
