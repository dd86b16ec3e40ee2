// Go's runtime keeps its cgroup's CPU limit files open to follow them
// (since Go 1.25); probe does not, so that "probe fds" shows only what the
// sandbox handed it.
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command probe tries one thing a hostile step would try inside the
// sandbox and prints what happened, for the end-to-end scripts
// (testscripts/attack_*.txtar) to assert on. Each result is one line,
// "NAME: RESULT", where RESULT is "allowed" or the errno's name (EPERM),
// and probe exits 0 whatever the result: the scripts decide.
//
//	probe syscalls              every syscall probe, one line each
//	probe NAME                  one of them (keyctl, bpf, clone3, ...)
//	probe caps                  the capability lines of /proc/self/status
//	probe ids                   real, effective and saved user and group ids
//	probe as UID GID PROG ARG…  become UID:GID, keeping no capability; run PROG
//	probe fds                   the descriptors open in probe itself
//	probe open PATH r|w|rw      open only (never creates or truncates)
//	probe read PATH             read all of PATH: "N bytes"
//	probe write PATH TEXT       open write-only (no create, no truncate), write
//	probe write-reopen PATH T   the same through an O_PATH descriptor
//	probe readdir PATH          the names in PATH
//	probe mkdir PATH
//	probe mknod PATH            a character device 1:3 (null), then open it
//	probe mount TARGET          mount a tmpfs on TARGET
//	probe umount PATH           umount2, then with MNT_DETACH if busy
//	probe ptrace-attach PID
//	probe process_vm_readv PID
//	probe tiocsti [TEXT]        push TEXT and a newline into stdin's terminal
//	probe connect-unix PATH [MSG], connect-abstract NAME [MSG]
//	probe listen-unix PATH [TIMEOUT [READY]], listen-abstract NAME [...]
//	probe hog MIB               allocate and touch MIB MiB, 1 MiB at a time
//	probe spin SECONDS          burn one CPU for SECONDS of wall time: "N loops"
//	probe forkbomb SECONDS      copies of itself that each start two more, for SECONDS
//	probe cgroupns PROG ARG…    PROG in user, mount and cgroup namespaces of its own
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// A probe runs with the arguments after its name and prints its lines.
type probe struct {
	args  string // usage of the arguments, "" for none
	nargs [2]int // least and most arguments
	run   func(args []string)
}

var probes = map[string]probe{}

// syscallProbes are the probes "probe syscalls" runs, in this order.
var syscallProbes []string

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	p, ok := probes[os.Args[1]]
	args := os.Args[2:]
	if !ok || len(args) < p.nargs[0] || len(args) > p.nargs[1] {
		usage()
	}
	p.run(args)
}

func usage() {
	var names []string
	for n, p := range probes {
		names = append(names, strings.TrimSpace(n+" "+p.args))
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: probe NAME [ARGS]\n  %s\n", strings.Join(names, "\n  "))
	os.Exit(2)
}

// say prints "name: result" for err: "allowed" when nil, else the errno's
// name where there is one.
func say(name string, err error) {
	fmt.Printf("%s: %s\n", name, result(err))
}

func result(err error) string {
	if err == nil {
		return "allowed"
	}
	var e unix.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
		return fmt.Sprintf("errno %d", uintptr(e))
	}
	return err.Error()
}

// add registers a probe that takes no arguments.
func add(name string, run func() error) {
	probes[name] = probe{run: func([]string) { say(name, run()) }}
}

// addSyscall registers a probe that takes no arguments and that "probe
// syscalls" runs too.
func addSyscall(name string, run func() error) {
	add(name, run)
	syscallProbes = append(syscallProbes, name)
}

// addArgs registers a probe with arguments; it prints its own lines.
func addArgs(name, args string, least, most int, run func(args []string)) {
	probes[name] = probe{args: args, nargs: [2]int{least, most}, run: run}
}

func init() {
	addArgs("syscalls", "", 0, 0, func([]string) {
		for _, n := range syscallProbes {
			probes[n].run(nil)
		}
	})
}
