//go:build linux

package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	moby "github.com/moby/profiles/seccomp"
)

// maxProfile bounds what we read, so that a wrong path (/dev/zero) fails
// instead of filling memory. Docker's own profile is about 20 KiB.
const maxProfile = 4 << 20

// fileRules compiles a Docker/OCI profile file exactly as written (no sbx
// additions; foreign tables and x32 still answer ENOSYS, see assemble.go).
// Rules apply in file order: for a syscall named by several rules, the first
// whose arguments match decides. The profile's architectures, flags and
// listenerPath are not used: the filter covers the native table only.
func fileRules(o Options) (*ruleSet, uint32, error) {
	body, err := readProfile(o.Profile)
	if err != nil {
		return nil, 0, err
	}
	// Decode once ourselves for errors with a line number; moby's
	// LoadProfile says only "Decoding seccomp profile failed".
	var probe moby.Seccomp
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, 0, jsonError(body, err)
	}
	sc, err := moby.LoadProfile(string(body), ociSpec(o.Caps))
	if err != nil {
		return nil, 0, err
	}
	if sc == nil {
		// Docker reads this as "no seccomp"; we ask for it to be said.
		return nil, 0, errors.New("no defaultAction and no syscalls (for no filter, use --seccomp unconfined)")
	}
	def, err := action(sc.DefaultAction, sc.DefaultErrnoRet)
	if err != nil {
		return nil, 0, fmt.Errorf("defaultAction: %w", err)
	}
	rs, err := newRuleSet()
	if err != nil {
		return nil, 0, err
	}
	if err := rs.addProfile(sc); err != nil {
		return nil, 0, err
	}
	return rs, def, nil
}

func readProfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathless(err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxProfile+1))
	if err != nil {
		return nil, pathless(err)
	}
	if len(body) > maxProfile {
		return nil, fmt.Errorf("larger than %d bytes", maxProfile)
	}
	return body, nil
}

// pathless drops the path from an *fs.PathError: the caller names the file.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// jsonError adds the line and column to a decoding error that has an offset.
func jsonError(body []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err
	}
	// The offset is just past the byte that failed.
	if off > 0 {
		off--
	}
	off = min(off, int64(len(body)))
	head := body[:off]
	line := bytes.Count(head, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(head, '\n')
	return fmt.Errorf("%v at line %d, column %d", err, line, col)
}
