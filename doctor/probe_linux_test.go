package doctor

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestProbeCommand(t *testing.T) {
	cmd := probeCommand(context.Background(), "overlay", 1000, 1001)
	if cmd.Path != "/proc/self/exe" || !reflectEqual(cmd.Args, []string{os.Args[0], "__probe", "overlay"}) {
		t.Errorf("command %q %q", cmd.Path, cmd.Args)
	}
	a := cmd.SysProcAttr
	if a.Cloneflags != syscall.CLONE_NEWUSER|syscall.CLONE_NEWNS {
		t.Errorf("Cloneflags %#x", a.Cloneflags)
	}
	if len(a.UidMappings) != 1 || a.UidMappings[0] != (syscall.SysProcIDMap{ContainerID: 0, HostID: 1000, Size: 1}) {
		t.Errorf("UidMappings %+v", a.UidMappings)
	}
	if len(a.GidMappings) != 1 || a.GidMappings[0] != (syscall.SysProcIDMap{ContainerID: 0, HostID: 1001, Size: 1}) {
		t.Errorf("GidMappings %+v", a.GidMappings)
	}
	if a.GidMappingsEnableSetgroups {
		t.Error("setgroups must be denied before an unprivileged gid_map write")
	}
}

func reflectEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// TestRealProbes runs the probes on this machine, whose kernel allows
// unprivileged user namespaces and overlayfs in them.
func TestRealProbes(t *testing.T) {
	if c := find(t, UsernsChecks(Host{UID: os.Getuid()}), "userns"); c.Status == Fail {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: this host forbids user namespaces: %s", c.Detail)
		}
		t.Skipf("this host forbids user namespaces: %s", c.Detail)
	}
	for _, kind := range []string{"userns", "overlay"} {
		if err := RunProbe(kind); err != nil {
			t.Errorf("RunProbe(%q): %v", kind, err)
		}
	}
	// The probe's own error comes back as the error text.
	if err := RunProbe("no-such-probe"); err == nil || err.Error() != `unknown probe "no-such-probe"` {
		t.Errorf("RunProbe(no-such-probe) = %v", err)
	}
	h := DefaultHost()
	checks := Run(h)
	var b strings.Builder
	WriteText(&b, checks)
	t.Logf("uid %d:\n%s", h.UID, b.String())
	for _, name := range []string{"userns", "container-seccomp", "overlay-userns"} {
		if c := find(t, checks, name); c.Status != OK {
			t.Errorf("%s: %s %s", name, c.Status, c.Detail)
		}
	}
}

// TestRealProbesUnprivileged repeats TestRealProbes as an unprivileged uid
// when the test runs as root: rootless is the product.
func TestRealProbesUnprivileged(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("already unprivileged: TestRealProbes covers it")
	}
	// The test binary usually sits in a 0700 directory: copy it where
	// nobody can run it.
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "doctor.test")
	if err := copyFile(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	cmd := exec.Command(bin, "-test.run=^TestRealProbes$", "-test.v")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + dir, "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("as uid %d: %v", nobody, err)
	}
	if !strings.Contains(string(out), "uid 65534:") {
		t.Errorf("the inner test did not run as uid %d", nobody)
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
