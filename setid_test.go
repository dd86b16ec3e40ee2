package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesSetuid installs a copy of sbx setuid to another user and runs
// it: it must refuse (125) before doing anything. Only root can make a
// setuid file of another owner; the unprivileged rerun skips it.
func TestRefusesSetuid(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("making a setuid binary of another owner needs root; the root run covers it")
	}
	exe, err := os.Executable()
	must(t, err)
	dir, err := os.MkdirTemp(filepath.Dir(exe), "setuid-")
	if err != nil {
		dir = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	bin := filepath.Join(dir, "sbx")
	must(t, copyFile(exe, bin, 0o755))
	for _, mode := range []os.FileMode{0o755 | os.ModeSetuid, 0o755 | os.ModeSetgid} {
		must(t, os.Chown(bin, 4242, 4242))
		must(t, os.Chmod(bin, mode))
		out, err := exec.Command(bin, "version").CombinedOutput()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code == -1 && err == nil {
			code = 0
		}
		if code == 0 && strings.Contains(string(out), "sbx ") && !strings.Contains(string(out), "setuid") {
			// The file system ignores the bit (nosuid): nothing to test here.
			gap(t, dir+" is on a nosuid mount: the setuid bit does not take")
			return
		}
		if code != 125 || !strings.Contains(string(out), "installed setuid or setgid") || !strings.Contains(string(out), "chmod u-s,g-s") {
			t.Errorf("mode %v: status %d, output %q", mode, code, out)
		}
	}
}
