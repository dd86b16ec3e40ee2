package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sbx-sandbox/sbx/caps"
	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/report"
)

// runCaptured runs `sbx run ARGS...` in this process with dir as the
// working directory, and returns its status and sbx's own stderr.
func runCaptured(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	return runtest.Captured(t, dir, func() int { return runCLI(append([]string{"run"}, args...)) })
}

func reportedProtections(t *testing.T, path string) *report.Protections {
	t.Helper()
	return runtest.ReadRecord(t, path).Protections
}

// TestRunProtectionsInReport checks that the report says which filter and
// capabilities held the command, and that they are the ones it had: the
// command reads its own status.
func TestRunProtectionsInReport(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "r.json")
	code, stderr := runCaptured(t, dir, "--report", rep, "--", "sh", "-c", "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status > status")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	p := reportedProtections(t, rep)
	if p == nil || p.Seccomp.Mode != "default" || p.Seccomp.Rules < 300 || !p.NoNewPrivs || p.NestedUserns {
		t.Fatalf("protections %+v", p)
	}
	if !slices.Equal(p.Capabilities, caps.Default().Names()) {
		t.Errorf("capabilities %v, want Docker's %v", p.Capabilities, caps.Default().Names())
	}
	status, _ := os.ReadFile(filepath.Join(dir, "status"))
	for _, want := range []string{"CapEff:\t00000000a80425fb", "NoNewPrivs:\t1", "Seccomp:\t2"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("inside: %q lacks %q", status, want)
		}
	}

	code, stderr = runCaptured(t, dir, "--report", rep, "--seccomp", "unconfined", "--cap-drop", "ALL", "--cap-add", "chown",
		"--allow-nested-userns", "--", "sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status > status")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	p = reportedProtections(t, rep)
	if p == nil || p.Seccomp.Mode != "unconfined" || p.Seccomp.Rules != 0 || !p.NestedUserns || !slices.Equal(p.Capabilities, []string{"CAP_CHOWN"}) {
		t.Fatalf("protections %+v", p)
	}
	status, _ = os.ReadFile(filepath.Join(dir, "status"))
	if !strings.Contains(string(status), "CapEff:\t0000000000000001") || !strings.Contains(string(status), "Seccomp:\t0") {
		t.Errorf("inside: %q", status)
	}
}

// TestRunBadSeccompProfile: a profile that cannot be parsed stops the run
// before the command, naming the file; the record says it was sbx.
func TestRunBadSeccompProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "prof.json")
	must(t, os.WriteFile(prof, []byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [`), 0o644))
	rep := filepath.Join(dir, "r.json")
	code, stderr := runCaptured(t, dir, "--report", rep, "--seccomp", prof, "--", "touch", "ran")
	if code != 125 || !strings.Contains(stderr, prof) {
		t.Errorf("status %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the command ran")
	}
	b, _ := os.ReadFile(rep)
	if !strings.Contains(string(b), `"setup-error"`) {
		t.Errorf("record %s", b)
	}
}

// TestRunStrictProfile runs a command under a profile file that denies
// what sbx's PID 1 must do after the fork to reap and report (wait4, kill,
// sendmsg) and forking itself. PID 1 is not held by it: the profile is
// installed on the helper that becomes the command. So the run ends, with
// the command's own status and output.
func TestRunStrictProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "strict.json")
	must(t, os.WriteFile(prof, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO", "names": [
		"wait4", "waitid", "kill", "tgkill", "sendmsg", "recvmsg", "clone", "fork", "vfork"]}]}`), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "in"), []byte("through the filter\n"), 0o644))
	code, stderr := runCaptured(t, dir, "--seccomp", prof, "--", "sh", "-c", "cat in > out; exit 7")
	if code == 7 {
		t.Errorf("sh forked under a profile that denies clone, fork and vfork: %s", stderr)
	}
	code, stderr = runCaptured(t, dir, "--seccomp", prof, "--", "/bin/cp", "in", "out")
	if code != 0 {
		t.Fatalf("cp under the profile: status %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out")); string(b) != "through the filter\n" {
		t.Errorf("out %q", b)
	}
}
