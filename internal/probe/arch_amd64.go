package main

import "golang.org/x/sys/unix"

// x32Getpid calls getpid (39) through the x32 table: the number with bit
// 30 set, from a 64-bit process. ENOSYS where the kernel has no x32 ABI
// and no filter answers first.
func x32Getpid() error {
	_, _, e := unix.RawSyscall(39|0x40000000, 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// int80 makes system call nr through int $0x80, the i386 table, and
// returns what the kernel left in AX (arch_amd64.s).
func int80(nr uintptr) uintptr

// i386Getpid calls getpid (20 in the i386 table) through int $0x80.
func i386Getpid() error {
	r := int80(20)
	if int32(r) < 0 && int32(r) > -4096 {
		return unix.Errno(-int32(r))
	}
	return nil
}
