package seccomp

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const childEnv = "SBX_SECCOMP_TEST_CHILD"

// TestInstall installs the default program for real, in a child process (the
// test binary run again), so that no thread of this test process is filtered.
func TestInstall(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	if !Available() {
		t.Skip("seccomp filters are not available here")
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
