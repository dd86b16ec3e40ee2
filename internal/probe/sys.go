package main

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sys makes a raw system call and returns its errno, nil for success.
func sys(trap uintptr, a ...uintptr) error {
	_, err := sysFD(trap, a...)
	return err
}

// sysFD is sys for a call that returns a descriptor: it closes it.
func sysFD(trap uintptr, a ...uintptr) (uintptr, error) {
	var args [6]uintptr
	copy(args[:], a)
	r, _, e := unix.Syscall6(trap, args[0], args[1], args[2], args[3], args[4], args[5])
	if e != 0 {
		return r, e
	}
	return r, nil
}

func closing(trap uintptr, a ...uintptr) func() error {
	return func() error {
		fd, err := sysFD(trap, a...)
		if err == nil {
			unix.Close(int(fd))
		}
		return err
	}
}

// kept holds everything a probe passes to the kernel by address as a
// uintptr: held here, it lives on the heap, where the garbage collector
// neither moves nor frees it before the call.
var kept []unsafe.Pointer

func ptr[T any](v *T) uintptr {
	kept = append(kept, unsafe.Pointer(v))
	return uintptr(unsafe.Pointer(v))
}

// str is a NUL-terminated copy of s, buf n zero bytes.
func str(s string) uintptr { return ptr(&append([]byte(s), 0)[0]) }
func buf(n int) uintptr    { return ptr(&make([]byte, n)[0]) }

// neg passes a negative int as a syscall argument.
func neg(n int) uintptr { return uintptr(n) }

var atFDCWD = neg(unix.AT_FDCWD)

// Constants x/sys/unix does not name.
const (
	uffdUserModeOnly = 1         // linux/userfaultfd.h
	readImpliesExec  = 0x0400000 // linux/personality.h
)

// The system calls the default filter denies, called with harmless
// arguments: where the filter lets one through, the kernel answers with
// its own errno (EBADF, EINVAL, ENOENT) or does something harmless (a
// descriptor probe closes, a key in probe's own keyring).
func init() {
	// Keyrings: the session keyring's id; a key in the process keyring,
	// gone with probe; a key that does not exist (ENOKEY).
	addSyscall("keyctl", func() error {
		return sys(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, neg(unix.KEY_SPEC_SESSION_KEYRING), 0)
	})
	addSyscall("add_key", func() error {
		return sys(unix.SYS_ADD_KEY, str("user"), str("sbx-probe"), str("x"), 1, neg(unix.KEY_SPEC_PROCESS_KEYRING))
	})
	addSyscall("request_key", func() error {
		return sys(unix.SYS_REQUEST_KEY, str("user"), str("sbx-probe-absent"), 0, 0)
	})
	// A map of type 0 (unspec) and a perf event of a type that does not
	// exist: EINVAL and ENOENT where allowed (or the sysctls' EPERM).
	addSyscall("bpf", func() error { return sys(unix.SYS_BPF, unix.BPF_MAP_CREATE, buf(64), 64) })
	addSyscall("perf_event_open", func() error {
		attr := &unix.PerfEventAttr{Type: 0x7fffffff, Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{}))}
		return closing(unix.SYS_PERF_EVENT_OPEN, ptr(attr), 0, neg(-1), neg(-1), 0)()
	})
	// User-mode-only faults: allowed to anyone the filter lets through.
	addSyscall("userfaultfd", closing(unix.SYS_USERFAULTFD, uffdUserModeOnly|unix.O_CLOEXEC))
	addSyscall("io_uring_setup", closing(unix.SYS_IO_URING_SETUP, 1, buf(120)))
	addSyscall("io_uring_enter", func() error { return sys(unix.SYS_IO_URING_ENTER, neg(-1), 0, 0, 0, 0, 0) })
	addSyscall("io_uring_register", func() error { return sys(unix.SYS_IO_URING_REGISTER, neg(-1), 0, 0, 0) })
	addSyscall("kexec_load", func() error { return sys(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0) })
	addSyscall("kexec_file_load", func() error { return sys(unix.SYS_KEXEC_FILE_LOAD, neg(-1), neg(-1), 0, str(""), 0) })
	addSyscall("init_module", func() error { return sys(unix.SYS_INIT_MODULE, 0, 0, str("")) })
	addSyscall("finit_module", func() error { return sys(unix.SYS_FINIT_MODULE, neg(-1), str(""), 0) })
	addSyscall("delete_module", func() error { return sys(unix.SYS_DELETE_MODULE, str("sbx_probe_absent"), 0) })
	addSyscall("open_by_handle_at", func() error { return sys(unix.SYS_OPEN_BY_HANDLE_AT, neg(-1), buf(136), 0) })
	// The new mount API. open_tree without OPEN_TREE_CLONE is an O_PATH
	// open that anyone may make: "allowed" means the filter let it by.
	addSyscall("fsopen", closing(unix.SYS_FSOPEN, str("tmpfs"), 0))
	addSyscall("fsconfig", func() error { return sys(unix.SYS_FSCONFIG, neg(-1), unix.FSCONFIG_SET_FLAG, str("ro"), 0, 0) })
	addSyscall("fsmount", closing(unix.SYS_FSMOUNT, neg(-1), 0, 0))
	addSyscall("fspick", closing(unix.SYS_FSPICK, atFDCWD, str("/"), 0))
	addSyscall("move_mount", func() error { return sys(unix.SYS_MOVE_MOUNT, neg(-1), str(""), neg(-1), str(""), 0) })
	addSyscall("open_tree", closing(unix.SYS_OPEN_TREE, atFDCWD, str("/"), unix.O_CLOEXEC))
	addSyscall("mount_setattr", func() error {
		return sys(unix.SYS_MOUNT_SETATTR, neg(-1), str(""), 0, buf(32), 32)
	})
	// Namespaces.
	addSyscall("unshare-user", func() error { return unshareChild(unix.CLONE_NEWUSER) })
	addSyscall("unshare-ns", func() error { return unshareChild(unix.CLONE_NEWNS) })
	addSyscall("clone-newuser", func() error { return fork(unix.CLONE_NEWUSER) })
	// clone3 with a size below the first version's: EINVAL where the
	// filter lets it by, so no process is made either way.
	addSyscall("clone3", func() error { return sys(unix.SYS_CLONE3, buf(88), 0) })
	addSyscall("setns", func() error {
		f, err := os.Open("/proc/self/ns/user")
		if err != nil {
			return err
		}
		defer f.Close()
		return sys(unix.SYS_SETNS, f.Fd(), 0)
	})
	// personality: the query is allowed, READ_IMPLIES_EXEC is not.
	addSyscall("personality-query", func() error { return sys(unix.SYS_PERSONALITY, 0xffffffff) })
	addSyscall("personality-rie", func() error {
		old, _, _ := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
		err := sys(unix.SYS_PERSONALITY, readImpliesExec)
		if err == nil {
			unix.Syscall(unix.SYS_PERSONALITY, old, 0, 0)
		}
		return err
	})
	// Terminal ioctls on stdin: ENOTTY on a stdin that is no terminal,
	// where the filter lets them by. tiocsti pushes one NUL byte, or TEXT
	// and a newline; the -hi forms set bit 32 of the request, which the
	// kernel ignores (bubblewrap's CVE-2017-5226 bypass).
	for _, t := range []struct {
		name string
		req  uintptr
	}{{"tiocsti", unix.TIOCSTI}, {"tiocsti-hi", unix.TIOCSTI | 1<<32}} {
		addArgs(t.name, "[TEXT]", 0, 1, func(args []string) {
			text := "\x00"
			if len(args) == 1 {
				text = args[0] + "\n"
			}
			say(t.name, tiocsti(t.req, text))
		})
		syscallProbes = append(syscallProbes, t.name)
	}
	addSyscall("tioclinux", func() error { return tioclinux(unix.TIOCLINUX) })
	addSyscall("tioclinux-hi", func() error { return tioclinux(unix.TIOCLINUX | 1<<32) })
	// The other system call tables (arch_*.go).
	addSyscall("x32-getpid", x32Getpid)
	addSyscall("i386-getpid", i386Getpid)
	// Ordinary calls, allowed.
	addSyscall("getpid", func() error { return sys(unix.SYS_GETPID) })
	addSyscall("fork", func() error { return fork(0) })
}

// tiocsti pushes text into stdin's terminal one byte at a time, stopping
// at the first refusal.
func tiocsti(req uintptr, text string) error {
	for i := 0; i < len(text); i++ {
		if err := sys(unix.SYS_IOCTL, 0, req, str(text[i:i+1])); err != nil {
			return err
		}
	}
	return nil
}

// tioclinux asks for the shift state (TIOCL_GETSHIFTSTATE): EINVAL on a
// terminal that is no virtual console.
func tioclinux(req uintptr) error {
	return sys(unix.SYS_IOCTL, 0, req, str("\x06"))
}

// fork makes a child with clone(flags|SIGCHLD), the way fork(2) does, and
// waits for it. The child exits at once, before it could run any Go code.
//
//go:norace
func fork(flags uintptr) error {
	pid, _, e := unix.RawSyscall6(unix.SYS_CLONE, flags|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var ws unix.WaitStatus
	_, err := unix.Wait4(int(pid), &ws, 0, nil)
	return err
}

// unshareChild calls unshare(flags) in a child that then runs "probe
// getpid": a new user namespace needs a single-threaded caller, which no
// Go program is, but Go's child between fork and exec is one.
func unshareChild(flags uintptr) error {
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	cmd := exec.Command(exe, "getpid")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: flags}
	// Go reports the child's failed unshare as the error of the start.
	return cmd.Run()
}

// ptraceAttach attaches to pid and, if that works, detaches again.
func ptraceAttach(pid int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.PtraceAttach(pid); err != nil {
		return err
	}
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, unix.WALL, nil)
	unix.PtraceDetach(pid)
	return nil
}

// processVMReadv reads 16 bytes at 0x400000 of pid, where a static
// non-PIE amd64 binary (sbx's init) has its ELF header. EFAULT means the
// kernel let probe at pid's memory and found nothing there.
func processVMReadv(pid int) error {
	local := make([]byte, 16)
	_, err := unix.ProcessVMReadv(pid,
		[]unix.Iovec{{Base: &local[0], Len: 16}},
		[]unix.RemoteIovec{{Base: 0x400000, Len: 16}}, 0)
	return err
}
