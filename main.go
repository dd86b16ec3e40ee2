// The Go runtime would otherwise keep the host cgroup's CPU limit files open
// in the sandbox's PID 1 to size GOMAXPROCS (Go 1.25+): host files held by a
// process the command can inspect.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// sbx runs a command in a rootless sandbox: its own user, PID, mount, UTS,
// IPC and network namespaces, and a copy-on-write view of the host.
//
// The path of a run: cli.go (flags → spec.Options) → run.Main (the Spec,
// then the run's parts in order, run/run.go: ids, record, root file system,
// protections) → userns.Sandbox.Run (the parent) → userns.InitMain (PID 1
// inside, its setup steps top to bottom); then the parts stop in reverse,
// the report last. main.go and cli.go only parse and dispatch.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/userns"
)

func init() {
	// The sandbox's PID 1 dies with the thread that forked it
	// (PR_SET_PDEATHSIG is per thread, golang/go#27505). Pinning main to
	// its thread, which lives as long as the process, makes that "dies
	// with sbx".
	runtime.LockOSThread()
}

func main() {
	os.Exit(sbxMain())
}

// sbxMain dispatches the hidden re-exec entries before any flag parsing:
// the child is recognised by argv[1] alone.
func sbxMain() int {
	if err := refuseSetID(); err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", err)
		return userns.ExitSetup
	}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case userns.InitArg:
			return userns.InitMain()
		case userns.ExecArg:
			return userns.ExecMain()
		case userns.ChangesArg:
			return userns.ChangesMain()
		case userns.RemoveArg:
			if len(os.Args) != 3 {
				return 2
			}
			return userns.RemoveMain(os.Args[2])
		case "__probe":
			if len(os.Args) != 3 {
				return 2
			}
			return doctor.ProbeMain(os.Args[2])
		}
	}
	return runCLI(os.Args[1:])
}

// refuseSetID stops sbx when it was installed setuid or setgid: it is built
// to hold only its caller's privileges, and as a setuid program its
// caller's environment, paths and descriptors would steer a privileged
// process (the hazard of setuid bubblewrap and Firejail).
func refuseSetID() error {
	if os.Geteuid() != os.Getuid() || os.Getegid() != os.Getgid() {
		exe, _ := os.Executable()
		return fmt.Errorf("sbx is installed setuid or setgid (uid %d euid %d, gid %d egid %d) and refuses to run so; it needs no privilege: chmod u-s,g-s %s", os.Getuid(), os.Geteuid(), os.Getgid(), os.Getegid(), exe)
	}
	return nil
}
