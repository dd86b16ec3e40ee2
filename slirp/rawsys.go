package slirp

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system calls on the path of every relayed packet are made raw: they
// never block (every descriptor here is non-blocking, and a wait goes
// through Go's poller), so they need not tell the scheduler they are in
// the kernel.
//
// Why it matters: a goroutine that enters the kernel the usual way wakes
// the runtime's monitor (sysmon) if the process was idle, and the monitor
// then ticks every 20 µs until the process is idle again. A sandbox that
// makes one small request at a time goes idle several times a request, so
// the monitor woke about six times a request, each a thread switch, which
// on a small virtual machine costs more than the packet's own work. A raw
// call leaves the monitor asleep.

func rawErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), rawErr(e)
}

func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), rawErr(e)
}

// rawReadv reads into bufs, none of which may be empty.
func rawReadv(fd int, iov []unix.Iovec, bufs [][]byte) (int, error) {
	for i, b := range bufs {
		iov[i].Base = &b[0]
		iov[i].SetLen(len(b))
	}
	n, _, e := unix.RawSyscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(bufs)))
	return int(n), rawErr(e)
}

func rawSetsockoptInt(fd, level, opt, value int) error {
	v := int32(value)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), 0)
	return rawErr(e)
}

func rawGetsockoptInt(fd, level, opt int) (int, error) {
	var v int32
	l := uint32(unsafe.Sizeof(v))
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return int(v), rawErr(e)
}

func rawShutdown(fd, how int) error {
	_, _, e := unix.RawSyscall(unix.SYS_SHUTDOWN, uintptr(fd), uintptr(how), 0)
	return rawErr(e)
}

func rawSocket(family, typ int) (int, error) {
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(typ), 0)
	return int(fd), rawErr(e)
}

func rawClose(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// rawSend writes p to a socket; MSG_NOSIGNAL makes a peer that has gone
// an EPIPE, not a SIGPIPE.
func rawSend(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
		unix.MSG_NOSIGNAL, 0, 0)
	return int(n), rawErr(e)
}

func rawSetLinger(fd, sec int) error {
	l := unix.Linger{Onoff: 1, Linger: int32(sec)}
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER,
		uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
	return rawErr(e)
}

// rawConnect starts a connection to ap on the non-blocking socket fd.
func rawConnect(fd int, ap netip.AddrPort, zone uint32) error {
	a := ap.Addr()
	port := ap.Port()
	var e unix.Errno
	if a.Is4() || a.Is4In6() {
		sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		_, _, e = unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	} else {
		sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16(), Scope_id: zone}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		_, _, e = unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	}
	return rawErr(e)
}

// rawWritable reports, without waiting, whether fd polls writable (for a
// connecting socket: the connection has been made or has failed).
func rawWritable(fd int) (bool, error) {
	pfd := unix.PollFd{Fd: int32(fd), Events: unix.POLLOUT}
	var ts unix.Timespec
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if e != 0 {
		return false, e
	}
	return n > 0, nil
}
