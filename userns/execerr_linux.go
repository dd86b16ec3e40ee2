package userns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// explainExec turns exec's ENOENT for a file that exists into what is
// missing: the interpreter its #! line names, or the dynamic loader an
// executable asks for. Any other error is returned as it is.
func explainExec(path string, err error) error {
	if !errors.Is(err, syscall.ENOENT) {
		return err
	}
	f, ferr := os.Open(path)
	if ferr != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := f.Read(head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		fields := bytes.Fields(line)
		if len(fields) == 0 {
			return fmt.Errorf("its #! line names no interpreter")
		}
		return fmt.Errorf("its interpreter %s (from its #! line) does not exist in the sandbox", fields[0])
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return fmt.Errorf("%v: its dynamic loader or a library it needs does not exist in the sandbox", err)
	}
	return err
}
