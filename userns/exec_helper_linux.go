package userns

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/caps"
	"github.com/sbx-sandbox/sbx/seccomp"
)

// ExecArg marks the helper that starts the command in a nested user
// namespace, or under a profile file (see privileges_linux.go): sbx
// re-executed between the fork and the command, because a new user
// namespace starts with a full bounding set, a profile file may deny what
// PID 1 needs, and Go runs no code of ours in a forked child.
const ExecArg = "__exec"

// execHelperFD is where the helper finds its end of the socket to PID 1.
const execHelperFD = 3

// execRequest is what PID 1 tells the helper; execReply is the helper's
// answer when the exec fails (on success the socket closes with the exec).
type execRequest struct {
	Path    string           `json:"path"`
	Argv    []string         `json:"argv"`
	Caps    caps.Set         `json:"caps"`
	LastCap int              `json:"last_cap"`
	Seccomp *seccomp.Program `json:"seccomp"`
}

type execReply struct {
	Code  int    `json:"code"`
	Error string `json:"error"`
}

// ExecMain is `sbx __exec`: it cuts its bounding set to the command's
// capabilities, installs the seccomp filter on its (locked) main thread,
// the one that execs, and becomes the command. Its environment, working
// directory, descriptors and ids are the command's already.
func ExecMain() int {
	sock := os.NewFile(execHelperFD, "sbx-exec")
	reply := func(code int, format string, args ...any) int {
		json.NewEncoder(sock).Encode(execReply{Code: code, Error: fmt.Sprintf(format, args...)})
		return code
	}
	var req execRequest
	if err := json.NewDecoder(sock).Decode(&req); err != nil || len(req.Argv) == 0 {
		return reply(ExitSetup, "read the command from PID 1: %v", err)
	}
	unix.CloseOnExec(execHelperFD)
	// A command started as another uid holds no capability after its exec,
	// and no_new_privs keeps it from gaining one; only root needs the cut.
	if os.Geteuid() == 0 {
		if err := limitBoundingSet(req.Caps, req.LastCap); err != nil {
			return reply(ExitSetup, "%v", err)
		}
	}
	if err := req.Seccomp.Install(); err != nil {
		return reply(ExitSetup, "install the seccomp filter: %v", err)
	}
	err := syscall.Exec(req.Path, req.Argv, os.Environ())
	return reply(ExecFailureStatus(err), "%s: %v", req.Argv[0], explainExec(req.Path, err))
}

// startHelper hands the command to the helper started as pid over sock
// and waits until it has exec'd it (the socket closes) or failed.
func startHelper(sock *os.File, pid int, req execRequest) *Exit {
	defer sock.Close()
	if err := json.NewEncoder(sock).Encode(req); err != nil {
		return &Exit{Code: ExitSetup, ExecError: fmt.Sprintf("hand the command to the helper: %v", err)}
	}
	unix.Shutdown(int(sock.Fd()), unix.SHUT_WR)
	var r execReply
	if err := json.NewDecoder(sock).Decode(&r); errors.Is(err, io.EOF) {
		return nil // exec'd
	} else if err != nil {
		r = execReply{Code: ExitSetup, Error: fmt.Sprintf("read the helper's answer: %v", err)}
	}
	unix.Wait4(pid, nil, 0, nil)
	return &Exit{Code: r.Code, ExecError: r.Error}
}
