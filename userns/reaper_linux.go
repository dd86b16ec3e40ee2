package userns

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/spec"
)

// runCommand starts the command and, as PID 1, reaps every process of the
// namespace until the command exits; then it kills what is left.
func (c *child) runCommand() *Exit {
	s := c.setup.Spec
	if err := os.Chdir(s.Workdir); err != nil {
		return &Exit{Code: ExitSetup, ExecError: fmt.Sprintf("cannot enter workdir %s: %v", s.Workdir, err)}
	}
	path, status, err := lookCommand(s.Command[0], s.Env, s.Workdir)
	if err != nil {
		return &Exit{Code: status, ExecError: err.Error()}
	}
	// The pty stands in for the caller's terminals only; a descriptor the
	// caller redirected (a file, a pipe) is passed on as it is.
	files := []uintptr{0, 1, 2}
	ctty := -1
	for fd, isTerm := range s.TerminalFDs {
		if isTerm && c.ptyFD >= 0 {
			files[fd] = uintptr(c.ptyFD)
			if ctty < 0 {
				ctty = fd
			}
		}
	}
	attr := &syscall.ProcAttr{
		Dir:   s.Workdir,
		Env:   s.Env,
		Files: files,
		Sys: &syscall.SysProcAttr{
			Setsid:    true,
			Setctty:   ctty >= 0,
			Ctty:      max(ctty, 0),
			Pdeathsig: syscall.SIGKILL,
		},
	}
	setgroups := c.canSetgroups()
	if s.UID != 0 || s.GID != 0 {
		attr.Sys.Credential = &syscall.Credential{Uid: uint32(s.UID), Gid: uint32(s.GID), NoSetGroups: !setgroups}
	}
	exe, argv := path, s.Command
	var helper *os.File
	helperEnd := -1
	if needsHelper(s.Caps, c.setup.Seccomp) {
		if needsNestedNamespace(s.Caps) {
			if err := c.nest(attr.Sys, setgroups); err != nil {
				return &Exit{Code: ExitSetup, ExecError: err.Error()}
			}
		}
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return &Exit{Code: ExitSetup, ExecError: fmt.Sprintf("socketpair: %v", err)}
		}
		helper = os.NewFile(uintptr(pair[0]), "sbx-exec")
		helperEnd = pair[1]
		attr.Files = append(attr.Files, uintptr(pair[1]))
		exe, argv = "/proc/self/exe", []string{os.Args[0], ExecArg}
	} else if err := c.setup.Seccomp.Install(); err != nil {
		// The last step on the thread that forks: the command inherits
		// the filter, and PID 1 makes only the calls it allows from here.
		return &Exit{Code: ExitSetup, ExecError: fmt.Sprintf("install the seccomp filter: %v", err)}
	}
	pid, err := syscall.ForkExec(exe, argv, attr)
	if c.ptyFD >= 0 {
		unix.Close(c.ptyFD)
	}
	if helperEnd >= 0 {
		// Only the helper may hold its end: the socket reads EOF once
		// the helper's exec closes it.
		unix.Close(helperEnd)
	}
	if err != nil {
		if helper != nil {
			helper.Close()
		}
		if needsNestedNamespace(s.Caps) && nestFailed(err) {
			return &Exit{Code: ExitSetup, ExecError: fmt.Sprintf("cannot start the command in a user namespace of its own (the one that locks the sandbox's mounts): %v; run `sbx doctor` for what this host allows", err)}
		}
		return &Exit{Code: ExecFailureStatus(err), ExecError: fmt.Sprintf("%s: %v", s.Command[0], explainExec(path, err))}
	}
	if helper != nil {
		req := execRequest{Path: path, Argv: s.Command, Caps: s.Caps, LastCap: LastCap(), Seccomp: c.setup.Seccomp}
		if exit := startHelper(helper, pid, req); exit != nil {
			return exit
		}
	}
	exit := c.reap(pid)
	// The command is gone: nothing else may outlive it.
	unix.Kill(-1, unix.SIGKILL)
	for {
		if _, err := unix.Wait4(-1, nil, 0, nil); err == unix.ECHILD {
			break
		}
	}
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_CHILDREN, &ru) == nil {
		exit.MaxRSSKiB = ru.Maxrss
	}
	return exit
}

// reap waits for the command, reaping orphans as they come, and forwards
// signals from the parent; a SignalAll message signals every process.
func (c *child) reap(cmdPid int) *Exit {
	control := make(chan Message, 4)
	go func() {
		for {
			m, _, err := c.conn.Recv()
			if err != nil {
				return
			}
			control <- m
		}
	}()
	for {
		// Reap whatever is ready before sleeping: a SIGCHLD may have
		// arrived before the handler's channel was read.
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err != nil || pid <= 0 {
				break
			}
			if pid == cmdPid {
				code, sig := StatusFromWait(syscall.WaitStatus(ws))
				return &Exit{Code: code, Signal: sig}
			}
		}
		select {
		case sig := <-c.signal:
			if sig != syscall.SIGCHLD {
				unix.Kill(cmdPid, sig.(syscall.Signal))
			}
		case m := <-control:
			if m.Type == MsgSignalAll {
				unix.Kill(-1, syscall.Signal(m.Signal))
			}
		}
	}
}

// nest makes the command start in a nested user, mount and UTS namespace
// (see nestedCloneflags), with the same ids as PID 1's namespace, when its
// capabilities could otherwise undo the sandbox's mounts.
func (c *child) nest(sys *syscall.SysProcAttr, setgroups bool) error {
	uids, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return fmt.Errorf("read uid_map: %w", err)
	}
	gids, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return fmt.Errorf("read gid_map: %w", err)
	}
	if sys.UidMappings, err = identityMap(string(uids)); err != nil {
		return fmt.Errorf("uid_map: %w", err)
	}
	if sys.GidMappings, err = identityMap(string(gids)); err != nil {
		return fmt.Errorf("gid_map: %w", err)
	}
	sys.Cloneflags = nestedCloneflags
	// Go writes "deny" to setgroups unless told otherwise; the nested
	// namespace may allow it exactly when PID 1's does.
	sys.GidMappingsEnableSetgroups = setgroups
	return nil
}

// canSetgroups reports whether setgroups(2) is allowed in this namespace:
// it is denied when the parent wrote a single gid mapping itself.
func (c *child) canSetgroups() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "allow"
}

// lookCommand finds the command as a shell would, in the sandbox's PATH.
// It returns the status to exit with when it cannot: 127 when there is no
// such file, 126 when there is one but it cannot be executed.
func lookCommand(name string, env []string, dir string) (string, int, error) {
	if strings.Contains(name, "/") {
		fi, err := os.Stat(name)
		if err != nil {
			return "", ExitNotFound, fmt.Errorf("%s: %v", name, unwrapPathErr(err))
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", ExitNotExecutable, fmt.Errorf("%s: permission denied (not an executable file)", name)
		}
		return name, 0, nil
	}
	pathEnv, _ := spec.Lookup(env, "PATH")
	notExec := ""
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		if fi.Mode()&0o111 == 0 {
			if notExec == "" {
				notExec = p
			}
			continue
		}
		return p, 0, nil
	}
	if notExec != "" {
		return "", ExitNotExecutable, fmt.Errorf("%s: permission denied", notExec)
	}
	return "", ExitNotFound, fmt.Errorf("%s: command not found", name)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
