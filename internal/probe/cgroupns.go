package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// cgroupns runs PROG in new user, mount and cgroup namespaces of its own,
// as root there: what a command allowed nested namespaces can do to reach
// a cgroup file system it may write (testscripts/vm/21_nested_cgroups).
func init() {
	addArgs("cgroupns", "PROG ARG…", 1, 64, func(a []string) {
		cmd := exec.Command(a[0], a[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWCGROUP,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		}
		if err := cmd.Run(); err != nil {
			fmt.Println("cgroupns:", err)
		}
	})
}
