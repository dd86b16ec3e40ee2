package userns

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/spec"
)

// Sandbox is one run, as the parent sees it.
type Sandbox struct {
	Spec *spec.Spec
	// Prepare builds the child's Setup (state directory, mount plan). It
	// runs while the child is being cloned and exec'd, which is most of a
	// run's start-up time.
	Prepare func() (*Setup, error)
	Maps    Maps
	// Cgroup, when set, is the directory of the cgroup the child starts in
	// (resource limits put it there before the first instruction runs).
	Cgroup *os.File
	// KillAll, when set, kills every process of the run at once (the
	// cgroup's cgroup.kill), besides PID 1, when the grace after a
	// timeout has run out.
	KillAll func()
	// ExplainStart turns a failure to create the namespaces into one line
	// with the reason and the fix (sbx doctor's checks).
	ExplainStart func(error) string
	// Serve holds, per message type, the server of the descriptor the
	// child hands back with it (the FUSE view of the host on the
	// /dev/fuse it mounted, for MsgHostFS); a handler takes dev, and the
	// error it returns is printed as it is worded.
	Serve map[MsgType]func(dev *os.File) error

	done   chan waited // PID 1's exit, once it has started
	reaped *waited
}

type waited struct {
	st  *os.ProcessState
	err error
}

// Reap waits until PID 1 has exited and returns the resources it and every
// process it reaped used, or nil when unknown. Run returns as soon as the
// command has ended, so the caller can clean up while the kernel tears the
// namespaces down.
func (s *Sandbox) Reap() *syscall.Rusage {
	if s.reaped == nil && s.done != nil {
		w := <-s.done
		s.reaped = &w
	}
	if s.reaped == nil || s.reaped.st == nil {
		return nil
	}
	ru, _ := s.reaped.st.SysUsage().(*syscall.Rusage)
	return ru
}

// Result is how a run ended.
type Result struct {
	Code   int
	Cause  string // exit, signal, timeout, setup-error
	Signal int
	// Err is the message to print for statuses 125, 126 and 127.
	Err      error
	Duration time.Duration
	// MaxRSSKiB is the peak RSS of the processes inside (not PID 1), or -1.
	MaxRSSKiB int64
}

type inbound struct {
	m   Message
	fds []int
	err error
}

// Run starts the sandbox and supervises it until the command has ended
// (PID 1 has reported, or is gone); Reap then waits for PID 1 itself.
func (s *Sandbox) Run() Result {
	start := time.Now()
	res := s.run()
	res.Duration = time.Since(start)
	return res
}

func (s *Sandbox) run() Result {
	type prepared struct {
		setup *Setup
		err   error
	}
	// Before Prepare starts: enabling a signal waits for the runtime's
	// signal-mask thread, and behind a Prepare that holds the P this
	// goroutine would run next on, the child's start waited for all of
	// Prepare (up to 4 ms) instead of running beside it.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, Forwarded...)
	defer signal.Stop(sigs)
	ready := make(chan prepared, 1)
	go func() {
		setup, err := s.Prepare()
		ready <- prepared{setup, err}
	}()
	// Whatever happens below, Prepare has finished before Run returns: the
	// caller cleans up what it made.
	var prep *prepared
	waitPrepared := func() prepared {
		if prep == nil {
			p := <-ready
			prep = &p
		}
		return *prep
	}
	defer waitPrepared()

	parentSock, childSock, err := socketPair()
	if err != nil {
		return setupFailure(err)
	}
	defer parentSock.Close()

	cgroupFD := -1
	if s.Cgroup != nil {
		cgroupFD = int(s.Cgroup.Fd())
	}
	cmd := InitCommand(s.Spec, childSock, LastCap(), cgroupFD)
	err = cmd.Start()
	childSock.Close()
	if err != nil {
		msg := err.Error()
		if s.ExplainStart != nil {
			msg = s.ExplainStart(err)
		}
		return setupFailure(errors.New(msg))
	}
	pid := cmd.Process.Pid
	conn := NewConn(parentSock)
	abort := func(err error) Result {
		cmd.Process.Kill()
		cmd.Wait()
		return setupFailure(err)
	}
	// The setup travels while the maps are written (newuidmap is two
	// execs), so the child decodes it meanwhile.
	sent := make(chan error, 1)
	go func() {
		p := waitPrepared()
		if p.err != nil {
			sent <- p.err
			return
		}
		if err := conn.Send(Message{Type: MsgSetup, Setup: p.setup}); err != nil {
			sent <- fmt.Errorf("send setup to the sandbox: %w", err)
			return
		}
		sent <- nil
	}()
	mapsErr := WriteMaps(pid, s.Maps)
	if err := <-sent; err != nil {
		return abort(err)
	}
	if mapsErr != nil {
		return abort(fmt.Errorf("write id maps: %w", mapsErr))
	}
	if err := conn.Send(Message{Type: MsgMapsWritten}); err != nil {
		return abort(fmt.Errorf("signal the sandbox: %w", err))
	}
	return s.supervise(cmd.Process, func() (*os.ProcessState, error) { return waitProcess(cmd.Process) }, conn, sigs)
}

// supervise relays signals, enforces the timeout and collects the outcome.
func (s *Sandbox) supervise(proc *os.Process, wait func() (*os.ProcessState, error), conn *Conn, sigs chan os.Signal) Result {
	spec := s.Spec
	msgs := make(chan inbound, 4)
	go func() {
		for {
			m, fds, err := conn.Recv()
			msgs <- inbound{m, fds, err}
			if err != nil {
				close(msgs)
				return
			}
		}
	}()
	done := make(chan waited, 1)
	s.done = done
	go func() {
		st, err := wait()
		done <- waited{st, err}
	}()

	var timeout, grace <-chan time.Time
	if spec.Timeout > 0 {
		t := time.NewTimer(spec.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var (
		term     *terminal
		exit     *Exit
		failed   error
		timedOut bool
		serveErr error
		st       waited
		ended    bool
	)
	handle := func(in inbound) {
		if in.err != nil {
			return
		}
		switch in.m.Type {
		case MsgTerminal:
			if len(in.fds) == 1 && term == nil {
				term = startTerminal(in.fds[0], s.Spec.TerminalFDs)
			}
		case MsgFailed:
			failed = errors.New(in.m.Error)
		case MsgExited:
			exit = in.m.Exit
		default:
			d, ok := devices[in.m.Type]
			if !ok {
				break
			}
			serve := s.Serve[in.m.Type]
			if len(in.fds) != 1 || serve == nil {
				failed = fmt.Errorf("protocol: an unexpected %s descriptor", d.what)
				proc.Kill()
				break
			}
			// A child that needs the device served waits until this
			// answers (the FUSE view: its next mount is over it). One
			// that failed meanwhile took the device with it: its own
			// message, read next, says why.
			if err := serve(os.NewFile(uintptr(in.fds[0]), d.file)); err != nil {
				serveErr = err
				proc.Kill()
			}
		}
	}
loop:
	for exit == nil && failed == nil {
		select {
		case in, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			handle(in)
		case sig := <-sigs:
			if sig == syscall.SIGWINCH && term != nil {
				term.resize()
				continue
			}
			proc.Signal(sig)
		case <-timeout:
			timedOut = true
			// SIGTERM to every process inside, SIGKILL to all after grace.
			conn.Send(Message{Type: MsgSignalAll, Signal: int(syscall.SIGTERM)})
			grace = time.After(spec.Grace)
		case <-grace:
			proc.Kill()
			if s.KillAll != nil {
				s.KillAll()
			}
		case st = <-done:
			s.reaped, ended = &st, true
			break loop
		}
	}
	// PID 1 is gone: read what it said before it went.
	for ended && msgs != nil {
		in, ok := <-msgs
		if !ok {
			break
		}
		handle(in)
	}
	if term != nil {
		term.finish()
	}
	if failed == nil && serveErr != nil {
		failed = serveErr
	}
	res := Result{MaxRSSKiB: -1}
	switch {
	case timedOut:
		res.Code, res.Cause = ExitTimeout, "timeout"
		res.Err = fmt.Errorf("timed out after %s", spec.Timeout)
		if exit != nil {
			res.Signal = exit.Signal
			res.MaxRSSKiB = exit.MaxRSSKiB
		}
	case failed != nil:
		return setupFailure(failed)
	case exit != nil:
		res.Code, res.Signal, res.MaxRSSKiB = exit.Code, exit.Signal, exit.MaxRSSKiB
		res.Cause = "exit"
		if exit.Signal != 0 {
			res.Cause = "signal"
		}
		if exit.ExecError != "" {
			res.Err = errors.New(exit.ExecError)
			if exit.Code == ExitSetup {
				res.Cause = "setup-error"
			}
		}
	default:
		how := "unknown"
		if st.st != nil {
			how = st.st.String()
		} else if st.err != nil {
			how = st.err.Error()
		}
		return setupFailure(fmt.Errorf("the sandbox's init ended without a result (%s)", how))
	}
	return res
}

func setupFailure(err error) Result {
	return Result{Code: ExitSetup, Cause: "setup-error", Err: err, MaxRSSKiB: -1}
}

// socketPair makes the socket between the parent and PID 1. The parent's
// end goes through Go's poller. Blocking, the goroutine waiting on it holds
// a P in the read; with the other one in the child's wait, the goroutine a
// message wakes waits until sysmon takes a P back, up to 10 ms (the FUSE
// view's descriptor did, while the child's next mount waited for the view
// to be served). The child's end is PID 1's, as it was made.
func socketPair() (parent, child *os.File, err error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	if err := unix.SetNonblock(pair[0], true); err != nil {
		unix.Close(pair[0])
		unix.Close(pair[1])
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(pair[0]), "sbx-parent"), os.NewFile(uintptr(pair[1]), "sbx-child"), nil
}
