package userns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
)

// ChangesArg marks the re-exec that names a run's changes inside a user
// namespace with the run's id maps.
const ChangesArg = "__changes"

// changesRequest is what the re-exec reads on stdin once the maps are
// written.
type changesRequest struct {
	Layers []rootfs.Layer `json:"layers"`
	// Keep is set when the layers are in --keep DIR, inherited as fd 3.
	Keep bool `json:"keep"`
}

// ChangesInNamespace names the changes of layers as root in a user
// namespace with the run's id maps. The command may have made directories
// in the upper layers that only a subordinate id can enter (chown 5, chmod
// 700: dpkg does it); the caller cannot walk them from outside. keep is the
// --keep directory's descriptor, or -1.
func ChangesInNamespace(layers []rootfs.Layer, keep int, m Maps) ([]rootfs.Change, error) {
	req, err := json.Marshal(changesRequest{Layers: layers, Keep: keep >= 0})
	if err != nil {
		return nil, err
	}
	var extra []*os.File
	if keep >= 0 {
		// A copy: an *os.File closes its descriptor when collected,
		// and the state still needs its own.
		dup, err := unix.FcntlInt(uintptr(keep), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(dup), "keep")
		defer f.Close()
		extra = []*os.File{f}
	}
	var out bytes.Buffer
	cmd, start, err := startInNamespace(m, &out, extra, ChangesArg)
	if err != nil {
		return nil, err
	}
	start.Write(req) // the maps are written: the request, then EOF
	start.Close()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("name the changes in a user namespace: %w", err)
	}
	var changes []rootfs.Change
	if err := json.Unmarshal(out.Bytes(), &changes); err != nil {
		return nil, fmt.Errorf("name the changes in a user namespace: %w", err)
	}
	return changes, nil
}

// ChangesMain is the entry of `sbx __changes`: it reads the request on
// stdin (which ends once the maps are written) and prints the changes.
func ChangesMain() int {
	var req changesRequest
	b, err := io.ReadAll(os.Stdin)
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", err)
		return 1
	}
	var changes []rootfs.Change
	if req.Keep {
		changes = rootfs.ChangesIn(3, req.Layers)
	} else {
		changes = rootfs.Changes(req.Layers)
	}
	if err := json.NewEncoder(os.Stdout).Encode(changes); err != nil {
		return 1
	}
	return 0
}
