package seccomp

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Instruction must be laid out exactly like struct sock_filter, which Install
// hands to the kernel without copying.
var (
	_ [unsafe.Sizeof(Instruction{}) - unsafe.Sizeof(unix.SockFilter{})]struct{}
	_ [unsafe.Sizeof(unix.SockFilter{}) - unsafe.Sizeof(Instruction{})]struct{}
	_ [unsafe.Offsetof(Instruction{}.K) - unsafe.Offsetof(unix.SockFilter{}.K)]struct{}
	_ [unsafe.Offsetof(unix.SockFilter{}.K) - unsafe.Offsetof(Instruction{}.K)]struct{}
	_ [unsafe.Offsetof(Instruction{}.Jf) - unsafe.Offsetof(unix.SockFilter{}.Jf)]struct{}
	_ [unsafe.Offsetof(unix.SockFilter{}.Jf) - unsafe.Offsetof(Instruction{}.Jf)]struct{}
)

// Install attaches p's filters, in order, to the calling OS thread (and so to
// everything it starts or execs afterwards). The caller has set no_new_privs
// and, from Go, locked the goroutine to its thread. Without TSYNC, the
// runtime's other threads stay unfiltered, which is why the caller execs
// from this thread. Nothing is allocated unless there is an error.
func (p *Program) Install() error {
	if p == nil {
		return nil
	}
	for i, f := range p.Filters {
		if len(f) == 0 || len(f) > 0xffff {
			return fmt.Errorf("seccomp: filter %d of %d has %d instructions", i+1, len(p.Filters), len(f))
		}
		prog := unix.SockFprog{Len: uint16(len(f)), Filter: (*unix.SockFilter)(unsafe.Pointer(&f[0]))}
		_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
		runtime.KeepAlive(&f[0])
		if errno != 0 {
			hint := ""
			if errno == unix.EACCES {
				hint = " (no_new_privs is not set)"
			}
			return fmt.Errorf("seccomp: installing filter %d of %d: %w%s", i+1, len(p.Filters), errno, hint)
		}
	}
	return nil
}

// Available reports whether this kernel (and whatever confines us) lets a
// process install seccomp filters: prctl(PR_GET_SECCOMP) answers, and the
// seccomp syscall knows SECCOMP_RET_ERRNO (SECCOMP_GET_ACTION_AVAIL, 4.14+).
func Available() bool {
	if _, _, errno := unix.Syscall(unix.SYS_PRCTL, unix.PR_GET_SECCOMP, 0, 0); errno != 0 {
		return false
	}
	act := uint32(unix.SECCOMP_RET_ERRNO)
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&act)))
	return errno == 0
}
