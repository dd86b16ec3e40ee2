// Command floor is the start-up floor of any sandbox built like sbx: a Go
// parent that clones a child into new user, mount, PID, UTS, IPC and network
// namespaces, writes its id maps, and a Go PID 1 (the same binary,
// re-executed) that mounts a fresh /proc and runs the command. It does
// nothing else: no copy-on-write view, no state directory, no /dev, no
// protocol, no signal forwarding, no clean-up.
//
// bench/startup.sh times it next to sbx and bubblewrap, so the report can say
// how much of sbx's start-up any design with two Go processes pays on the
// machine at hand, and how much is sbx's own.
//
//	floor [-subuid START:COUNT -subgid START:COUNT] COMMAND [ARG...]
//
// With -subuid/-subgid, the ids 1..COUNT inside map to the subordinate range
// through newuidmap/newgidmap, run side by side (sbx's default when the
// caller has a range); without, the caller alone maps to 0.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

const childArg = "__floor_child"

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(child(os.Args[2:]))
	}
	subuid := flag.String("subuid", "", "map 1..COUNT inside to this subordinate uid range START:COUNT (newuidmap)")
	subgid := flag.String("subgid", "", "map 1..COUNT inside to this subordinate gid range START:COUNT (newgidmap)")
	flag.Parse()
	if flag.NArg() == 0 || (*subuid == "") != (*subgid == "") {
		fmt.Fprintln(os.Stderr, "usage: floor [-subuid START:COUNT -subgid START:COUNT] COMMAND [ARG...]")
		os.Exit(2)
	}
	os.Exit(parent(*subuid, *subgid, flag.Args()))
}

func parent(subuid, subgid string, command []string) int {
	r, w, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command("/proc/self/exe", append([]string{childArg}, command...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
			syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		Pdeathsig: syscall.SIGKILL,
		// No uid is mapped when the child execs, so only ambient
		// capabilities survive the exec (as in sbx).
		AmbientCaps: []uintptr{21}, // CAP_SYS_ADMIN
	}
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	r.Close()
	if err := writeMaps(cmd.Process.Pid, subuid, subgid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fail(err)
	}
	w.Close() // the maps are written: go
	cmd.Wait()
	return cmd.ProcessState.ExitCode()
}

func writeMaps(pid int, subuid, subgid string) error {
	p := strconv.Itoa(pid)
	uid, gid := strconv.Itoa(os.Getuid()), strconv.Itoa(os.Getgid())
	if subuid == "" {
		proc := "/proc/" + p + "/"
		if err := os.WriteFile(proc+"setgroups", []byte("deny"), 0); err != nil {
			return err
		}
		if err := os.WriteFile(proc+"gid_map", []byte("0 "+gid+" 1\n"), 0); err != nil {
			return err
		}
		return os.WriteFile(proc+"uid_map", []byte("0 "+uid+" 1\n"), 0)
	}
	helpers := []*exec.Cmd{
		exec.Command("newuidmap", helperArgs(p, uid, subuid)...),
		exec.Command("newgidmap", helperArgs(p, gid, subgid)...),
	}
	for _, h := range helpers {
		h.Stderr = os.Stderr
		if err := h.Start(); err != nil {
			return err
		}
	}
	for _, h := range helpers {
		if err := h.Wait(); err != nil {
			return fmt.Errorf("%s: %w", h.Path, err)
		}
	}
	return nil
}

// helperArgs: PID 0 ID 1 1 START COUNT, for a range given as START:COUNT.
func helperArgs(pid, id, rng string) []string {
	start, count, _ := strings.Cut(rng, ":")
	return []string{pid, "0", id, "1", "1", start, count}
}

func child(command []string) int {
	// Wait until the parent has written the maps (the pipe closes).
	os.NewFile(3, "maps-written").Read(make([]byte, 1))
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fail(err)
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fail(err)
	}
	if err := syscall.Sethostname([]byte("sbx")); err != nil {
		return fail(err)
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		return fail(err)
	}
	return cmd.ProcessState.ExitCode()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "floor:", err)
	return 125
}
