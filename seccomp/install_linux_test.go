package seccomp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/internal/runtest"
)

const childEnv = "SBX_SECCOMP_TEST_CHILD"

// TestInstall installs the default program for real, in a child process (the
// test binary run again), so that no thread of this test process is filtered.
func TestInstall(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	if !Available() {
		runtest.Gap(t, "seccomp filters are not available here (sbx refuses to run without them; doctor's seccomp check says why)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInstallChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestInstallChild")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

// TestInstallChild runs in TestInstall's child. Its goroutine stays locked to
// the filtered thread and never unlocks, so the thread exits with it.
func TestInstallChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("runs as TestInstall's child")
	}
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	p := mustCompile(t, Options{Caps: dockerCaps})
	if err := p.Install(); err != nil {
		t.Fatal(err)
	}
	errnoOf := func(trap uintptr, args ...uintptr) unix.Errno {
		var a [6]uintptr
		copy(a[:], args)
		_, _, e := unix.Syscall6(trap, a[0], a[1], a[2], a[3], a[4], a[5])
		return e
	}
	sessionKeyring := -3 // KEY_SPEC_SESSION_KEYRING
	var c byte
	for _, w := range []struct {
		name string
		got  unix.Errno
		want unix.Errno
	}{
		{"keyctl(KEYCTL_GET_KEYRING_ID)", errnoOf(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(sessionKeyring), 0), unix.EPERM},
		{"ioctl(0, TIOCSTI)", errnoOf(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&c))), unix.EPERM},
		{"ioctl(0, TIOCSTI|1<<32)", errnoOf(unix.SYS_IOCTL, 0, uintptr(uint64(unix.TIOCSTI)|1<<32), uintptr(unsafe.Pointer(&c))), unix.EPERM},
		{"unshare(CLONE_NEWUSER)", errnoOf(unix.SYS_UNSHARE, unix.CLONE_NEWUSER), unix.EPERM},
		{"clone3", errnoOf(unix.SYS_CLONE3, 0, 0), unix.ENOSYS},
		{"socket(AF_VSOCK)", errnoOf(unix.SYS_SOCKET, unix.AF_VSOCK, unix.SOCK_STREAM, 0), unix.EPERM},
		{"io_uring_setup", errnoOf(unix.SYS_IO_URING_SETUP, 1, 0), unix.EPERM},
	} {
		if w.got != w.want {
			t.Errorf("%s: errno %v, want %v", w.name, w.got, w.want)
		}
	}
	if pid, _, e := unix.Syscall(unix.SYS_GETPID, 0, 0, 0); e != 0 || int(pid) != os.Getpid() {
		t.Errorf("getpid: %d %v", pid, e)
	}
	status, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(status, []byte("Seccomp:\t2")) {
		t.Errorf("thread is not in filter mode:\n%s", status)
	}
	// A child started from this thread inherits the filter and can exec.
	if sh, err := exec.LookPath("sh"); err == nil {
		out, err := exec.Command(sh, "-c", "grep Seccomp: /proc/self/status").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "2") {
			t.Errorf("child: %v %s", err, out)
		}
	}
}

// TestInstallTime times Install in a child (the test binary run again): each
// install is on a thread of its own, with no filter yet, as PID 1's is.
func TestInstallTime(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	if !Available() {
		runtest.Gap(t, "seccomp filters are not available here (sbx refuses to run without them; doctor's seccomp check says why)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInstallTimeChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=time")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestInstallTimeChild")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

// TestInstallTimeChild runs in TestInstallTime's child.
func TestInstallTimeChild(t *testing.T) {
	if os.Getenv(childEnv) != "time" {
		t.Skip("runs as TestInstallTime's child")
	}
	one := &Program{Mode: ModeFile}
	one.Filters = append(one.Filters, []Instruction{ret(retAllow)})
	// The kernel takes trampolines: longJumpProfile's filter, with every
	// return made ALLOW, so that the thread can go on (and exit: Go's runtime
	// crashes when a signal mask call fails) whatever it calls.
	path, _ := longJumpProfile(t)
	long := mustCompile(t, Options{Profile: path})
	for i, in := range long.Filters[0] {
		if in.Op == unix.BPF_RET|unix.BPF_K {
			long.Filters[0][i].K = retAllow
		}
	}
	for _, tc := range []struct {
		name string
		p    *Program
	}{
		{"one instruction", one},
		{"default", mustCompile(t, Options{Caps: dockerCaps})},
		{"long jumps", long},
	} {
		const n = 300
		times := make([]time.Duration, 0, n)
		for range n {
			d, err := timeInstall(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			times = append(times, d)
		}
		slices.Sort(times)
		var sum time.Duration
		for _, d := range times {
			sum += d
		}
		t.Logf("Install(%s, %d instructions), %d times: median %v, mean %v, min %v, p90 %v",
			tc.name, len(tc.p.Filters[0]), n, times[n/2], sum/n, times[0], times[n*9/10])
	}
}

// timeInstall installs p on a fresh thread: the goroutine locks its thread
// and never unlocks it, so the filtered thread exits with the goroutine.
func timeInstall(p *Program) (time.Duration, error) {
	type result struct {
		d   time.Duration
		err error
	}
	ch := make(chan result)
	go func() {
		runtime.LockOSThread()
		mode, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
		if err == nil && mode != 0 {
			err = fmt.Errorf("thread already in seccomp mode %d", mode)
		}
		if err == nil {
			err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
		}
		if err != nil {
			ch <- result{err: err}
			return
		}
		start := time.Now()
		err = p.Install()
		ch <- result{time.Since(start), err}
	}()
	r := <-ch
	return r.d, r.err
}

// BenchmarkStartupCost measures the filter's share of start-up as sbx pays it,
// once per process: Compile and encoding in a fresh process (sbx's parent),
// decoding and Install in another (PID 1), each the first call of its
// process, over several fresh children; it logs the medians (go test
// -run XX -bench StartupCost -benchtime 1x ./seccomp).
func BenchmarkStartupCost(t *testing.B) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	if !Available() {
		runtest.Gap(t, "seccomp filters are not available here (sbx refuses to run without them; doctor's seccomp check says why)")
	}
	const runs = 25
	var names []string
	times := map[string][]time.Duration{}
	for range runs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartupCostChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=startup")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestStartupCostChild")) {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			name, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok || !strings.HasPrefix(name, "cost ") {
				continue
			}
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatal(err)
			}
			if times[name] == nil {
				names = append(names, name)
			}
			times[name] = append(times[name], d)
		}
	}
	for _, name := range names {
		ds := times[name]
		slices.Sort(ds)
		t.Logf("%s: median %v (min %v, max %v, %d fresh processes)", strings.TrimPrefix(name, "cost "), ds[len(ds)/2], ds[0], ds[len(ds)-1], len(ds))
	}
}

// TestStartupCostChild runs in BenchmarkStartupCost's child: each step once, as
// the first of its kind in this process.
func TestStartupCostChild(t *testing.T) {
	if os.Getenv(childEnv) != "startup" {
		t.Skip("runs as BenchmarkStartupCost's child")
	}
	start := time.Now()
	p, err := Compile(Options{Caps: dockerCaps})
	if err != nil {
		t.Fatal(err)
	}
	compiled := time.Now()
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	encoded := time.Now()
	var q Program
	if err := json.Unmarshal(body, &q); err != nil {
		t.Fatal(err)
	}
	decoded := time.Now()
	install, err := timeInstall(&q)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("cost Compile (first call)=%v\n", compiled.Sub(start))
	fmt.Printf("cost json.Marshal (first call)=%v\n", encoded.Sub(compiled))
	fmt.Printf("cost json.Unmarshal (first call)=%v\n", decoded.Sub(encoded))
	fmt.Printf("cost Install (first call)=%v\n", install)
	fmt.Printf("cost total=%v\n", decoded.Sub(start)+install)
}
