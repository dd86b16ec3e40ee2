package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
)

// runCaptured is runIn with sbx's own stderr captured.
func runCaptured(t *testing.T, dir string, o spec.Options) (int, string) {
	t.Helper()
	return runtest.Captured(t, dir, func() int { return Main(o) })
}

func reportedView(t *testing.T, path string) string {
	t.Helper()
	return runtest.ReadRecord(t, path).View
}

// TestRunViewInReport checks which view of the host a run had, in the
// report: the kernel overlay alone for root, sbx's FUSE view under it for
// anyone else where /dev/fuse allows.
func TestRunViewInReport(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	code, stderr := runCaptured(t, dir, spec.Options{Report: rep, Command: sh("stat -c %u:%g /etc/hostname /usr > owners")})
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	want := "fuse+overlay"
	if os.Getuid() == 0 {
		want = "overlay"
	} else if why := hostFSUnusable(stateBase(t)); why != "" {
		gap(t, why+" (.ci/run makes /dev/fuse 0666)")
		return
	}
	if got := reportedView(t, rep); got != want {
		t.Errorf("view %q, want %q", got, want)
	}
	if owners, _ := os.ReadFile(filepath.Join(dir, "owners")); !strings.Contains(string(owners), "0:0") {
		t.Errorf("owners inside %q, want host root's files as 0:0", owners)
	}
}

// TestRunWithoutFUSEView runs as a host without a usable /dev/fuse: the
// run still works with the kernel overlay alone, one line says what fails
// and the fix, and the report names the view.
func TestRunWithoutFUSEView(t *testing.T) {
	if os.Getuid() == 0 {
		// Root never needs the view; the scripts run again as sbxtest
		// (TestScriptsUnprivileged runs this test as that user).
		t.Skip("root's runs need no FUSE view: covered when this test runs as the unprivileged user")
	}
	avoidHostFS = true
	t.Cleanup(func() { avoidHostFS = false })
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	name := "sbx-nofuse-" + filepath.Base(dir)
	code, stderr := runCaptured(t, dir, spec.Options{Report: rep,
		Command: sh("touch /usr/local/" + name + " 2>/dev/null && echo wrote > out || echo refused > out")})
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	if n := strings.Count(stderr, "writes below root-owned host directories"); n != 1 || !strings.Contains(stderr, "fix: sudo chmod 0666 /dev/fuse") {
		t.Errorf("stderr %q: want one line saying what fails and the fix", stderr)
	}
	if got := reportedView(t, rep); got != "overlay" {
		t.Errorf("view %q, want overlay", got)
	}
	// The fallback is the kernel overlay of host directories: host root's
	// directories below the top refuse the command's writes.
	if out, _ := os.ReadFile(filepath.Join(dir, "out")); strings.TrimSpace(string(out)) != "refused" {
		t.Errorf("write below /usr/local: %q, want refused without the FUSE view", out)
	}
	if unix.Access("/usr/local/"+name, unix.F_OK) == nil {
		t.Error("the write reached the host")
	}
}

func stateBase(t *testing.T) string {
	t.Helper()
	base, err := rootfs.StateBase(os.Getuid(), os.Getenv("HOME"))
	must(t, err)
	return base
}
