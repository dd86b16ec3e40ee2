package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/cgdelegate"
	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/rootfs"
)

// TestMain lets the scripts run the real sbx command: testscript puts this
// test binary on the scripts' PATH under the name "sbx".
func TestMain(m *testing.M) {
	// The sandbox's child, when a test in this binary starts one directly.
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "__") {
		os.Exit(sbxMain())
	}
	testscript.Main(m, map[string]func(){
		"sbx": func() { os.Exit(sbxMain()) },
	})
}

// TestScripts runs the end-to-end scripts in testscripts/ as the caller.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams())
}

// unprivilegedUserEnv names the user that runs the scripts again when the
// tests run as root: rootless is the product.
const unprivilegedUserEnv = "SBX_TEST_USER"

// TestScriptsUnprivileged runs the same scripts, and the tests of whole
// runs here and in the run package, again as an unprivileged user when the
// tests run as root. CI creates the user (.ci/run).
func TestScriptsUnprivileged(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("already unprivileged: TestScripts runs the scripts as this user")
	}
	name := os.Getenv(unprivilegedUserEnv)
	if name == "" {
		name = "sbxtest"
	}
	u, err := user.Lookup(name)
	if err != nil {
		gap(t, fmt.Sprintf("no user %q to run the scripts unprivileged (create it as .ci/run does, or set %s)", name, unprivilegedUserEnv))
		return
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	// The user needs its own copy of the test binary and the scripts: the
	// build cache and the checkout may be closed to it.
	dir, err := os.MkdirTemp("", "sbx-unprivileged-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	exe, err := os.Executable()
	must(t, err)
	bin := filepath.Join(dir, "sbx.test")
	must(t, copyFile(exe, bin, 0o755))
	must(t, os.CopyFS(filepath.Join(dir, "testscripts"), os.DirFS("testscripts")))
	tmp := filepath.Join(dir, "tmp")
	must(t, os.Mkdir(tmp, 0o700))
	// The scripts' probe, built here: the user may have no Go to build it.
	probe, err := probeBinary()
	must(t, err)
	must(t, copyFile(probe, filepath.Join(dir, "probe"), 0o755))
	// The run package's tests of whole runs go too (some only mean
	// something unprivileged, as TestRunWithoutFUSEView), built here.
	runTests := filepath.Join(dir, "run.test")
	if out, err := exec.Command("go", "test", "-c", "-o", runTests, "./run").CombinedOutput(); err != nil {
		t.Fatalf("building the run package's tests: %v\n%s", err, out)
	}
	must(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	}))

	asUser := func(what, bin, tests string) {
		args := []string{"-test.run=" + tests, "-test.count=1"}
		if testing.Verbose() {
			args = append(args, "-test.v")
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + u.HomeDir,
			"USER=" + name,
			"TMPDIR=" + tmp,
			"CI=" + os.Getenv("CI"),
			probeEnv + "=" + filepath.Join(dir, "probe"),
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		out, err := cmd.CombinedOutput()
		t.Logf("%s as %s (uid %d):\n%s", what, name, uid, out)
		if err != nil {
			t.Errorf("%s failed as unprivileged user %s: %v", what, name, err)
		}
	}
	asUser("scripts", bin, "^(TestScripts|TestRun.*)$")
	asUser("the run package's tests", runTests, "^TestRun")
}

func scriptParams() testscript.Params {
	return testscript.Params{
		Dir:                 "testscripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupScript,
		Condition:           scriptCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": cmdWaitFile,
			"noproc":   cmdNoProc,
			"stale":    cmdStale,
			"serve":    cmdServe,
			"dnsasked": cmdDNSAsked,
			"freeport": cmdFreePort,
		},
	}
}

// setupScript gives each script a home of its own (with secrets to hide)
// and a fixture directory in the caller's real home, which the sandbox sees
// copy-on-write (the script's $WORK is under /tmp, which is new inside).
func setupScript(env *testscript.Env) error {
	home := filepath.Join(env.WorkDir, "home")
	env.Setenv("HOME", home)
	env.Setenv("CALLER_UID", strconv.Itoa(os.Getuid()))
	env.Setenv("CALLER_GID", strconv.Itoa(os.Getgid()))
	env.Setenv("CI", os.Getenv("CI"))
	real, err := realHome()
	if err != nil {
		return err
	}
	fixture, err := os.MkdirTemp(real, ".sbx-test-")
	if err != nil {
		return fmt.Errorf("fixture in %s: %w", real, err)
	}
	env.Defer(func() { os.RemoveAll(fixture) })
	env.Setenv("FIXTURE", fixture)
	return setupProbe(env)
}

// realHome is the caller's home from the password database, not $HOME.
func realHome() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

// conditions are the named facts scripts test with [name]. ciRequired
// says when a condition must hold under CI=true: a script that skips for
// want of it would be a gap, so the condition is an error there instead.
var conditions = map[string]struct {
	desc       string
	ok         func() bool
	ciRequired func() bool
}{
	"root": {"the tests run as root", func() bool { return os.Getuid() == 0 }, never},
	// Root has no subordinate range in CI; the scripts that need one are
	// covered by the unprivileged run, where it is required.
	"subuid": {"newuidmap and a subordinate id range for the caller exist", hasSubUIDs, func() bool { return os.Getuid() != 0 }},
	"script": {"script(1) from util-linux, to run sbx on a terminal", func() bool { return has("script") }, always},
	"ipcmk":  {"ipcmk(1) from util-linux", func() bool { return has("ipcmk") }, always},
	"git":    {"git, for the scripts that attack the workdir's repository", func() bool { return has("git") }, always},
	"keyctl": {"keyctl(1) from keyutils", func() bool { return has("keyctl") }, always},
	// The copy-on-write view takes writes at every depth: for root by
	// itself, for anyone else through the FUSE view, which needs a
	// read-write /dev/fuse (stock distributions ship it 0666).
	"cowview": {"a view that takes writes at every depth: root, or a read-write /dev/fuse", cowView, always},
	// The system's Python with venv and ensurepip (Debian: python3-venv),
	// for the scripts that make a virtual environment (works_python_venv).
	"pyvenv": {"/usr/bin/python3 with the venv and ensurepip modules (python3-venv)", hasPyVenv, always},
	// --net slirp opens a TAP: stock distributions ship /dev/net/tun 0666.
	"tun":  {"a read-write /dev/net/tun, for --net slirp", hasTun, always},
	"curl": {"curl, the HTTP client of the network scripts", func() bool { return has("curl") }, always},
	// Limits need a delegated cgroup v2 subtree with controllers; CI's
	// host (a v1/v2 hybrid) has none, and the VM suite (internal/vm)
	// tests them on a real cgroup v2 kernel.
	"cgroup-limits": {"a delegated cgroup v2 subtree with the memory and pids controllers", hostLimits, never},
}

// hostLimits says whether this host could give a run --memory and --pids,
// without changing anything in its cgroups.
func hostLimits() bool {
	host := cgdelegate.RealHost()
	h, err := cgdelegate.Find(host)
	if err != nil || h.Hybrid {
		return false
	}
	dir := h.Dir(h.Own)
	have, _ := cgdelegate.Controllers(dir)
	return cgdelegate.Delegated(host, dir) == nil && slices.Contains(have, "memory") && slices.Contains(have, "pids")
}

func cowView() bool {
	return os.Getuid() == 0 || unix.Access("/dev/fuse", unix.R_OK|unix.W_OK) == nil
}

func hasPyVenv() bool {
	return exec.Command("/usr/bin/python3", "-c", "import ensurepip, venv").Run() == nil
}

func never() bool  { return false }
func always() bool { return true }

func scriptCondition(cond string) (bool, error) {
	c, ok := conditions[cond]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	holds := c.ok()
	if !holds && os.Getenv("CI") == "true" && c.ciRequired() {
		return false, fmt.Errorf("CI: condition [%s] (%s) does not hold; .ci/run must provide it", cond, c.desc)
	}
	return holds, nil
}

func has(bin string) bool {
	_, err := exec.LookPath(bin)
	return err == nil
}

func hasSubUIDs() bool {
	if !has("newuidmap") {
		return false
	}
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	f, err := os.Open("/etc/subuid")
	if err != nil {
		return false
	}
	defer f.Close()
	_, count, ok := doctor.ParseSubIDs(f, name, os.Getuid())
	return ok && count > 0
}

// cmdWaitFile waits up to 10 s for a file to exist: a sandboxed command
// writes it into the workdir when it is ready.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	p := ts.MkAbs(args[0])
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	ts.Fatalf("%s did not appear within 10s", p)
}

// cmdNoProc checks, from the host, that no process whose command line
// contains the pattern is left, waiting up to 5 s for the kernel to finish
// killing them.
func cmdNoProc(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: noproc PATTERN")
	}
	var found []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		found = processesMatching(args[0])
		if len(found) == 0 {
			return
		}
	}
	ts.Fatalf("processes still alive: %s", strings.Join(found, "; "))
}

func processesMatching(pattern string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmdline := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmdline, pattern) {
			found = append(found, e.Name()+": "+cmdline)
		}
	}
	return found
}

// cmdStale records the state directories of runs that are gone ("stale
// save FILE") and checks that they were removed ("stale gone FILE").
func cmdStale(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: stale save|gone FILE")
	}
	base := ts.Getenv(rootfs.StateDirEnv)
	if base == "" {
		var err error
		base, err = rootfs.StateBase(os.Getuid(), os.Getenv("HOME"))
		ts.Check(err)
	}
	file := ts.MkAbs(args[1])
	switch args[0] {
	case "save":
		stale := rootfs.StaleRuns(base)
		if len(stale) == 0 {
			ts.Fatalf("no stale run directory in %s", base)
		}
		ts.Check(os.WriteFile(file, []byte(strings.Join(stale, "\n")+"\n"), 0o644))
	case "gone":
		f, err := os.Open(file)
		ts.Check(err)
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if _, err := os.Stat(sc.Text()); err == nil {
				ts.Fatalf("stale run directory %s is still there", sc.Text())
			}
		}
	default:
		ts.Fatalf("usage: stale save|gone FILE")
	}
}

// gap reports a test that cannot run here. In CI a gap fails the run.
var gap = runtest.Gap

var must = runtest.Must

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}
