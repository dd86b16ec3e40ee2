package run

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
)

// runIn runs `sbx run` with the options o in this process, with dir as
// the working directory, and returns the exit status.
func runIn(t *testing.T, dir string, o spec.Options) int {
	t.Helper()
	return runtest.In(t, dir, func() int { return Main(o) })
}

// sh is the command `sh -c script`.
func sh(script string) []string { return []string{"sh", "-c", script} }

func stateEntries(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(stateBase(t))
	must(t, err)
	var names []string
	for _, e := range entries {
		// Run directories only: the base also keeps a cache of the
		// overlay probe, made by whichever run comes first.
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestRunRemovesItsState checks that a run leaves no state behind, even
// when it made files owned by other ids inside (removed from inside a user
// namespace when the caller cannot remove them itself).
func TestRunRemovesItsState(t *testing.T) {
	// A state base of its own: other packages' tests run sbx meanwhile.
	t.Setenv(rootfs.StateDirEnv, t.TempDir())
	before := stateEntries(t)
	dir := t.TempDir()
	script := "mkdir -p /opt/sbx-state-test/deep && touch /opt/sbx-state-test/deep/f && " +
		"(chown -R 4321:4321 /opt/sbx-state-test 2>/dev/null || true) && chmod 700 /opt/sbx-state-test/deep && echo done > out"
	if code := runIn(t, dir, spec.Options{Command: sh(script)}); code != 0 {
		t.Fatalf("status %d", code)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || strings.TrimSpace(string(b)) != "done" {
		t.Fatalf("the command did not run: %q %v", b, err)
	}
	for _, name := range stateEntries(t) {
		if !slices.Contains(before, name) {
			t.Errorf("state left behind: %s", name)
		}
	}
}

// TestRunFuseOverlayfsFallback runs the copy-on-write view through
// fuse-overlayfs, the driver used where kernel overlayfs is not allowed in
// a user namespace.
func TestRunFuseOverlayfsFallback(t *testing.T) {
	if !useFuseOverlayfs(t) {
		return
	}
	dir := t.TempDir()
	script := "grep -c fuse-overlayfs /proc/self/mountinfo > count; echo inside > /etc/sbx-fuse-test && cat /etc/sbx-fuse-test > seen"
	if code := runIn(t, dir, spec.Options{Diff: true, Command: sh(script)}); code != 0 {
		t.Fatalf("status %d", code)
	}
	count, _ := os.ReadFile(filepath.Join(dir, "count"))
	if strings.TrimSpace(string(count)) == "" || strings.TrimSpace(string(count)) == "0" {
		t.Errorf("no fuse-overlayfs mount inside (count %q)", count)
	}
	seen, _ := os.ReadFile(filepath.Join(dir, "seen"))
	if strings.TrimSpace(string(seen)) != "inside" {
		t.Errorf("write inside not visible inside: %q", seen)
	}
	if _, err := os.Stat("/etc/sbx-fuse-test"); err == nil {
		t.Error("the write reached the host's /etc")
	}
}

// TestRunFuseOverlayfsGitProtect protects a git directory through
// fuse-overlayfs, whose lower directory travels as a descriptor.
func TestRunFuseOverlayfsGitProtect(t *testing.T) {
	if !useFuseOverlayfs(t) {
		return
	}
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, ".git", "hooks"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".git", "config"), []byte("[core]\n\tbare = false\n"), 0o644))
	script := `grep -c fuse-overlayfs /proc/self/mountinfo > count; printf '[core]\n\tfsmonitor = evil\n[user]\n\temail = dev@example.com\n' >> .git/config; echo x > .git/hooks/pre-commit 2>/dev/null && echo hook-written > hook; true`
	if code := runIn(t, dir, spec.Options{Command: sh(script)}); code != 0 {
		t.Fatalf("status %d", code)
	}
	if count, _ := os.ReadFile(filepath.Join(dir, "count")); strings.TrimSpace(string(count)) == "0" {
		t.Errorf("no fuse-overlayfs mount inside")
	}
	config, err := os.ReadFile(filepath.Join(dir, ".git", "config"))
	must(t, err)
	if !strings.Contains(string(config), "dev@example.com") || strings.Contains(string(config), "fsmonitor") {
		t.Errorf("host .git/config after the run:\n%s\nwant the email and no fsmonitor", config)
	}
	if _, err := os.Stat(filepath.Join(dir, "hook")); err == nil {
		t.Error("a hook was written through the read-only hooks bind")
	}
}

// useFuseOverlayfs makes the test's runs use fuse-overlayfs, or reports the
// gap where it cannot run.
func useFuseOverlayfs(t *testing.T) bool {
	t.Helper()
	if _, err := lookSystemPath("fuse-overlayfs"); err != nil || unix.Access("/dev/fuse", unix.R_OK|unix.W_OK) != nil {
		gap(t, "fuse-overlayfs or a read-write /dev/fuse is missing (.ci/run installs it and makes /dev/fuse 0666)")
		return false
	}
	preferFuseOverlayfs = true
	t.Cleanup(func() { preferFuseOverlayfs = false })
	return true
}
