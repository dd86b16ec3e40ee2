package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

func init() {
	addArgs("caps", "", 0, 0, func([]string) {
		f, err := os.Open("/proc/self/status")
		if err != nil {
			say("caps", err)
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, _, _ := strings.Cut(sc.Text(), ":")
			switch k {
			case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp":
				fmt.Println(sc.Text())
			}
		}
	})
	addArgs("ids", "", 0, 0, func([]string) {
		ru, eu, su := unix.Getresuid()
		rg, eg, sg := unix.Getresgid()
		fmt.Printf("ids: ruid=%d euid=%d suid=%d rgid=%d egid=%d sgid=%d\n", ru, eu, su, rg, eg, sg)
	})
	// as drops to an ordinary user the plain way (no PR_SET_KEEPCAPS, so
	// the kernel clears the permitted and effective sets) and runs PROG.
	addArgs("as", "UID GID PROG [ARG...]", 3, 64, func(a []string) {
		uid, gid := atoi(a[0]), atoi(a[1])
		prog, err := exec.LookPath(a[2])
		if err == nil {
			err = syscall.Setgroups(nil)
		}
		if err == nil {
			err = syscall.Setresgid(gid, gid, gid)
		}
		if err == nil {
			err = syscall.Setresuid(uid, uid, uid)
		}
		if err == nil {
			err = syscall.Exec(prog, a[2:], os.Environ())
		}
		say("as "+a[0], err)
	})
	// fds lists the descriptors open in probe, leaving out the one it
	// reads /proc/self/fd with, and says what each one is. It reads with
	// raw calls: os.Open would start Go's poller, two descriptors more.
	addArgs("fds", "", 0, 0, func([]string) {
		d, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			say("fds", err)
			return
		}
		var fds []int
		b := make([]byte, 64<<10)
		for {
			n, err := unix.ReadDirent(d, b)
			if err != nil {
				say("fds", err)
				return
			}
			if n == 0 {
				break
			}
			_, _, names := unix.ParseDirent(b[:n], -1, nil)
			for _, name := range names {
				if fd, err := strconv.Atoi(name); err == nil && fd != d {
					fds = append(fds, fd)
				}
			}
		}
		unix.Close(d)
		sort.Ints(fds)
		var list []string
		for _, fd := range fds {
			list = append(list, strconv.Itoa(fd))
		}
		fmt.Printf("fds: %s\n", strings.Join(list, " "))
		for _, fd := range fds {
			target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
			fmt.Printf("fd %d: %s\n", fd, target)
		}
	})
	addArgs("open", "PATH r|w|rw", 2, 2, func(a []string) {
		flags, ok := map[string]int{"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR}[a[1]]
		if !ok {
			usage()
		}
		f, err := os.OpenFile(a[0], flags, 0)
		if err == nil {
			f.Close()
		}
		say("open "+a[0], err)
	})
	addArgs("read", "PATH", 1, 1, func(a []string) {
		f, err := os.Open(a[0])
		if err != nil {
			say("read "+a[0], err)
			return
		}
		defer f.Close()
		n, err := io.Copy(io.Discard, io.LimitReader(f, 1<<20))
		if err != nil {
			say("read "+a[0], err)
			return
		}
		fmt.Printf("read %s: %d bytes\n", a[0], n)
	})
	addArgs("write", "PATH TEXT", 2, 2, func(a []string) {
		f, err := os.OpenFile(a[0], os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(a[1])
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		say("write "+a[0], err)
	})
	// write-reopen opens PATH with O_PATH, which needs no permission on
	// the file, then reopens that descriptor for writing through
	// /proc/self/fd (the runc CVE-2019-5736 exploit's way in).
	addArgs("write-reopen", "PATH TEXT", 2, 2, func(a []string) {
		fd, err := unix.Open(a[0], unix.O_PATH|unix.O_CLOEXEC, 0)
		if err == nil {
			var f *os.File
			f, err = os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_WRONLY, 0)
			unix.Close(fd)
			if err == nil {
				_, err = f.WriteString(a[1])
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
		}
		say("write-reopen "+a[0], err)
	})
	addArgs("readdir", "PATH", 1, 1, func(a []string) {
		f, err := os.Open(a[0])
		if err != nil {
			say("readdir "+a[0], err)
			return
		}
		defer f.Close()
		names, err := f.Readdirnames(-1)
		if err != nil {
			say("readdir "+a[0], err)
			return
		}
		sort.Strings(names)
		fmt.Printf("readdir %s: %d entries %s\n", a[0], len(names), strings.Join(names, " "))
	})
	addArgs("mkdir", "PATH", 1, 1, func(a []string) { say("mkdir "+a[0], os.Mkdir(a[0], 0o755)) })
	addArgs("mknod", "PATH", 1, 1, func(a []string) {
		say("mknod "+a[0], unix.Mknod(a[0], unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		f, err := os.OpenFile(a[0], os.O_RDWR, 0)
		if err == nil {
			f.Close()
		}
		say("open "+a[0], err)
	})
	addArgs("mount", "TARGET", 1, 1, func(a []string) {
		say("mount "+a[0], unix.Mount("none", a[0], "tmpfs", 0, ""))
	})
	addArgs("umount", "PATH", 1, 1, func(a []string) {
		err := unix.Unmount(a[0], 0)
		if err == unix.EBUSY {
			err = unix.Unmount(a[0], unix.MNT_DETACH)
		}
		say("umount "+a[0], err)
	})
	addArgs("ptrace-attach", "PID", 1, 1, func(a []string) { say("ptrace-attach "+a[0], ptraceAttach(atoi(a[0]))) })
	addArgs("process_vm_readv", "PID", 1, 1, func(a []string) {
		say("process_vm_readv "+a[0], processVMReadv(atoi(a[0])))
	})
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		usage()
	}
	return n
}
