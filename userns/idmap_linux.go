package userns

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// WriteMaps writes the uid and gid maps of process pid. Maps with
// subordinate ranges go through the setuid helpers (run side by side, they
// each cost an exec); a single mapping is written directly, after denying
// setgroups as the kernel requires of an unprivileged writer.
func WriteMaps(pid int, m Maps) error {
	proc := "/proc/" + strconv.Itoa(pid)
	errs := make(chan error, 2)
	helpers := 0
	if !m.UID.Single() {
		helpers++
		go func() { errs <- runHelper(m.NewUIDMap, m.UID.HelperArgs(pid)) }()
	}
	if !m.GID.Single() {
		helpers++
		go func() { errs <- runHelper(m.NewGIDMap, m.GID.HelperArgs(pid)) }()
	}
	var first error
	if m.GID.Single() {
		if os.Geteuid() != 0 {
			if err := os.WriteFile(proc+"/setgroups", []byte("deny"), 0); err != nil {
				first = fmt.Errorf("write %s/setgroups: %w", proc, err)
			}
		}
		if first == nil {
			if err := os.WriteFile(proc+"/gid_map", []byte(m.GID.String()), 0); err != nil {
				first = fmt.Errorf("write gid_map %q: %w", strings.TrimSpace(m.GID.String()), err)
			}
		}
	}
	if m.UID.Single() && first == nil {
		if err := os.WriteFile(proc+"/uid_map", []byte(m.UID.String()), 0); err != nil {
			first = fmt.Errorf("write uid_map %q: %w", strings.TrimSpace(m.UID.String()), err)
		}
	}
	for i := 0; i < helpers; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func runHelper(path string, args []string) error {
	cmd := exec.Command(path, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", path, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
