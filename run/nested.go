package run

import (
	"bytes"
	"errors"
	"os"
)

// errNested is why `sbx run` stops inside one of its own sandboxes.
var errNested = errors.New("sbx run cannot run inside an sbx sandbox yet: the outer sandbox's /proc/sys is read-only and overlayfs refuses the layers it would stack; run the command in the outer sandbox directly, or start both sandboxes from the host")

// insideSbx reports whether this process runs in an sbx sandbox: its PID 1
// is sbx's init, which names itself so.
func insideSbx() bool {
	comm, err := os.ReadFile("/proc/1/comm")
	return err == nil && bytes.Equal(bytes.TrimSpace(comm), []byte("sbx-init"))
}
