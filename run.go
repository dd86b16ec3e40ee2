package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/hostfs"
	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/seccomp"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// run is `sbx run`: flags → Spec → state directory, plan and id maps → the
// sandbox → diff, keep, cleanup, report.
func (r *runCmd) run(mounts []spec.Mount) int {
	// Only 0, 1 and 2 may reach the command, whatever our caller left open
	// (Go does not close inherited descriptors on exec).
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)

	if insideSbx() {
		return fail(errNested)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return fail(fmt.Errorf("cannot read the current directory: %w", err))
	}
	homes := []string{os.Getenv("HOME"), rootfs.PasswdHome()}
	s, err := spec.Build(spec.Options{
		Command: r.Command, Hostname: r.Hostname, Workdir: r.Workdir, Mounts: mounts,
		Rootfs: r.Rootfs, Keep: r.Keep, Diff: r.Diff, Env: r.Env, EnvAll: r.EnvAll, UID: r.UID, GID: r.GID,
		MapUsers: r.MapUsers, Net: r.Net, Timeout: r.Timeout, Grace: r.Grace, Report: r.Report,
		GitProtect: r.GitProtect,
		Home:       r.Home,
		Homes:      homes,
		CapAdd:     r.CapAdd, CapDrop: r.CapDrop, LastCap: userns.LastCap(),
		Seccomp: r.Seccomp, AllowNestedUserns: r.NestedNS,
	}, spec.Caller{Env: os.Environ(), Cwd: cwd})
	if err != nil {
		return fail(err)
	}
	if err := resolveWorkdir(s, homes); err != nil {
		return failRecord(s, err)
	}
	warnSymlinkedSelf(s, invokedAs())
	noteOutsideRepository(s)
	for fd := range s.TerminalFDs {
		s.TerminalFDs[fd] = term.IsTerminal(fd)
		if s.TerminalFDs[fd] && s.Terminal == nil {
			s.Terminal = &spec.WindowSize{Rows: 24, Cols: 80}
			if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil && ws.Row > 0 {
				s.Terminal = &spec.WindowSize{Rows: ws.Row, Cols: ws.Col}
			}
		}
	}
	maps := chooseIDMaps(s)
	home := os.Getenv("HOME")
	base, err := rootfs.StateBase(os.Getuid(), home)
	if err != nil {
		return failRecord(s, err)
	}
	// The record's file is made now, before anything runs, and written
	// through this descriptor at the end: the command may replace the name
	// by a symlink meanwhile.
	var recordFile *report.File
	if s.Report != "" {
		if recordFile, err = createRecord(s); err != nil {
			return fail(fmt.Errorf("--report: %w", err))
		}
		defer recordFile.Close()
	}
	var keep *rootfs.KeepDir
	if s.Keep != "" {
		if keep, err = openKeep(s); err != nil {
			return failRecord(s, err)
		}
	}

	// The state directory and the plan are made while the child starts.
	var (
		state  *rootfs.State
		plan   *rootfs.Plan
		git    *gitGuard
		filter *seccomp.Program
	)
	prepare := func() (*userns.Setup, error) {
		var err error
		if keep != nil {
			state, err = rootfs.NewKeepState(keep)
		} else {
			state, err = rootfs.NewState(base, "")
		}
		if err != nil {
			return nil, err
		}
		if git, err = newGitGuard(s, home); err != nil {
			return nil, err
		}
		if plan, err = makePlan(s, state.Dir, base, home, git); err != nil {
			return nil, err
		}
		// The filter is compiled here, on the host: a profile file is
		// read before anything runs, and a bad one stops the run.
		if filter, err = seccomp.Compile(seccomp.Options{Profile: s.Seccomp, Caps: s.Caps.Names(), AllowNestedUserns: s.AllowNestedUserns}); err != nil {
			return nil, err
		}
		return &userns.Setup{Spec: s, Plan: plan, NewRoot: state.Dir.Root(), Seccomp: filter}, nil
	}
	sb := &userns.Sandbox{Spec: s, Prepare: prepare, Maps: maps, ExplainStart: explainStart}
	var hostView *hostfs.Server
	sb.ServeHostFS = func(dev *os.File) error {
		// The child mounts the view only after it has the plan.
		if plan == nil || plan.HostFS == nil {
			dev.Close()
			return errors.New("no FUSE view was planned")
		}
		var err error
		hostView, err = hostfs.Serve(dev, hostFSConfig(plan.HostFS, s, maps))
		return err
	}
	res := sb.Run()
	defer func() {
		if hostView != nil {
			hostView.Close()
		}
	}()
	if res.Err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", res.Err)
	}
	rec := report.Record{
		View:       viewName(s, plan),
		EnvDropped: append([]string{}, s.EnvDropped...), // [] when none: known, not missing
		ExitCode:   res.Code,
		Cause:      res.Cause,
		Signal:     report.SignalName(res.Signal),
		DurationMS: res.Duration.Milliseconds(),
	}
	if res.Err != nil && res.Cause == "setup-error" {
		rec.Error = res.Err.Error()
	}
	if filter != nil {
		rec.Protections = protections(s, filter)
	}
	if res.MaxRSSKiB >= 0 {
		rec.MemoryPeakBytes = report.Int64(res.MaxRSSKiB * 1024)
	}
	afterRun(sb, s, state, plan, git, maps, &rec, res.Cause == "setup-error")
	if git != nil && git.unsafe {
		// Something planted for the host's git is still in place: sbx's
		// own status says so, not the command's.
		fmt.Fprintln(os.Stderr, "sbx: git: something the command planted for your git could not be taken away (see above)")
		res.Code, rec.ExitCode = userns.ExitSetup, userns.ExitSetup
	}
	if recordFile != nil {
		if err := recordFile.Write(rec); err != nil {
			fmt.Fprintln(os.Stderr, "sbx: --report:", err)
		}
	}
	// Runs killed before they could clean up (kill -9) left their state
	// behind; it is removed here, after the command, not before it.
	for _, dir := range rootfs.StaleRuns(base) {
		removeState(dir, maps)
	}
	return res.Code
}

// afterRun does the host-side work once every process inside is gone:
// git's checked merge, the changes, --keep, removing the state, and the
// CPU time. Everything it touches the command could write is reached
// through descriptors taken before the command started.
func afterRun(sb *userns.Sandbox, s *spec.Spec, state *rootfs.State, plan *rootfs.Plan, git *gitGuard, maps userns.Maps, rec *report.Record, setupFailed bool) {
	if plan != nil && git != nil {
		// Nothing inside writes in the git overlays any more: PID 1
		// killed and reaped every process before it reported, or the
		// kernel did when PID 1 died.
		rec.GitRefused = git.merge(plan.Git, s.WorkdirSource, plan.Driver == rootfs.DriverFuse)
	} else {
		git.close()
	}
	// While the kernel tears the namespaces down, name the changes and
	// remove the state.
	if plan != nil && (s.Diff || s.Keep != "") {
		rec.Changes = state.Changes(plan.Layers)
		if rootfs.Unreadable(rec.Changes) && !maps.UID.Single() {
			// Directories only a subordinate id may enter: walk them as
			// root in a user namespace with the run's maps.
			if all, err := userns.ChangesInNamespace(plan.Layers, state.KeepFD(), maps); err == nil {
				rec.Changes = all
			} else {
				fmt.Fprintln(os.Stderr, "sbx: --diff:", err)
			}
		}
		if rec.Changes == nil {
			rec.Changes = []rootfs.Change{}
		}
	}
	if s.Diff {
		printChanges(rec.Changes)
	}
	if state != nil {
		kept := false
		if s.Keep != "" && plan != nil && !setupFailed {
			sb.Reap() // the overlays must be gone before their layers move
			state.Lock.Close()
			if err := rootfs.FinishKeep(state, plan.Layers); err != nil {
				fmt.Fprintln(os.Stderr, "sbx: --keep:", err)
			} else {
				kept = true
			}
		}
		if !kept {
			removeOwnState(state, maps)
		}
		state.Close()
	}
	if ru := sb.Reap(); ru != nil {
		rec.CPUUserMS = report.Int64(ru.Utime.Sec*1000 + int64(ru.Utime.Usec)/1000)
		rec.CPUSystemMS = report.Int64(ru.Stime.Sec*1000 + int64(ru.Stime.Usec)/1000)
	}
}

// makePlan gathers what the planner needs from the host and builds the plan.
func makePlan(s *spec.Spec, state rootfs.StateDir, base, home string, git *gitGuard) (*rootfs.Plan, error) {
	if err := state.WriteFiles(s.Hostname); err != nil {
		return nil, err
	}
	mi, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	points, err := rootfs.ParseMountPoints(mi)
	mi.Close()
	if err != nil {
		return nil, err
	}
	driver, fuse, warn, err := overlayDriver(s, base)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		fmt.Fprintln(os.Stderr, "sbx:", warn)
	}
	avoid := []string{base}
	if s.Keep != "" {
		avoid = append(avoid, s.Keep)
	}
	in := rootfs.Inputs{
		Spec: s, Host: rootfs.OS{}, MountPoints: points, State: state,
		Avoid: avoid, Home: home, PasswdHome: rootfs.PasswdHome(), Driver: driver, FuseOverlayfs: fuse, Self: selfPath(),
	}
	if git != nil {
		in.Git = git.protect
	}
	plan, err := rootfs.Build(in)
	if err != nil {
		return nil, err
	}
	if err := state.MakeGitLayers(plan); err != nil {
		return nil, err
	}
	return plan, state.MakeLayers(plan)
}

// removeState removes a run's state directory, its lock last; what the
// caller cannot remove (files owned by subordinate ids) is removed inside a
// user namespace with the same maps.
func removeState(dir string, maps userns.Maps) {
	if rootfs.RemoveState(dir) == nil {
		return
	}
	if err := userns.RemoveInNamespace(dir, maps); err != nil {
		fmt.Fprintf(os.Stderr, "sbx: warning: could not remove %s: %v\n", dir, err)
	}
}

// removeOwnState removes this run's state. A --keep DIR that could not be
// kept is emptied through its descriptor only: its name may have been
// replaced meanwhile, so it is not retried by path.
func removeOwnState(st *rootfs.State, maps userns.Maps) {
	err := st.Remove()
	if err == nil {
		return
	}
	if st.Keep != nil {
		fmt.Fprintf(os.Stderr, "sbx: warning: could not empty --keep %s: %v\n", st.Dir.Path(), err)
		return
	}
	if err := userns.RemoveInNamespace(st.Dir.Path(), maps); err != nil {
		fmt.Fprintf(os.Stderr, "sbx: warning: could not remove %s: %v\n", st.Dir.Path(), err)
	}
}

func explainStart(err error) string {
	checks := doctor.UsernsChecks(doctor.DefaultHost())
	if doctor.Failed(checks) {
		return doctor.Explain(checks)
	}
	return fmt.Sprintf("cannot create the sandbox's namespaces: %v; run `sbx doctor` for what this host allows", err)
}

func printChanges(changes []rootfs.Change) {
	for _, c := range changes {
		fmt.Fprintf(os.Stderr, "%-9s %s\n", c.Kind, rootfs.QuotePath(c.Path))
	}
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "sbx:", err)
	return userns.ExitSetup
}

// failRecord reports a setup failure and still writes the run record.
func failRecord(s *spec.Spec, err error) int {
	fmt.Fprintln(os.Stderr, "sbx:", err)
	if s.Report != "" {
		if f, ferr := createRecord(s); ferr == nil {
			f.Write(report.Record{ExitCode: userns.ExitSetup, Cause: "setup-error", Error: err.Error()})
			f.Close()
		}
	}
	return userns.ExitSetup
}

// lookSystemPath finds a helper binary in PATH or the usual system places;
// setuid helpers live in /usr/bin even when PATH is minimal.
func lookSystemPath(name string) (string, error) {
	dirs := append(filepath.SplitList(os.Getenv("PATH")), "/usr/bin", "/bin", "/usr/sbin", "/sbin")
	for _, d := range dirs {
		if !strings.HasPrefix(d, "/") {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// selfPath is the host path of the running sbx binary, or "".
func selfPath() string {
	p, err := os.Readlink("/proc/self/exe")
	if err != nil || !filepath.IsAbs(p) {
		return ""
	}
	return p
}

// protections is the report's account of the command's privileges.
func protections(s *spec.Spec, filter *seccomp.Program) *report.Protections {
	return &report.Protections{
		Seccomp:      report.Seccomp{Mode: string(filter.Mode), Profile: filter.Source, Rules: filter.Rules},
		Capabilities: s.Caps.Names(),
		NoNewPrivs:   true,
		NestedUserns: s.AllowNestedUserns,
	}
}
