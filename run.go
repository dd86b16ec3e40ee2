package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// run is `sbx run`: flags → Spec → state directory, plan and id maps → the
// sandbox → diff, keep, cleanup, report.
func (r *runCmd) run(mounts []spec.Mount) int {
	// Only 0, 1 and 2 may reach the command, whatever our caller left open
	// (Go does not close inherited descriptors on exec).
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)

	cwd, err := os.Getwd()
	if err != nil {
		return fail(fmt.Errorf("cannot read the current directory: %w", err))
	}
	s, err := spec.Build(spec.Options{
		Command: r.Command, Hostname: r.Hostname, Workdir: r.Workdir, Mounts: mounts,
		Rootfs: r.Rootfs, Keep: r.Keep, Diff: r.Diff, Env: r.Env, UID: r.UID, GID: r.GID,
		MapUsers: r.MapUsers, Net: r.Net, Timeout: r.Timeout, Grace: r.Grace, Report: r.Report,
	}, spec.Caller{Env: os.Environ(), Cwd: cwd})
	if err != nil {
		return fail(err)
	}
	if fi, err := os.Stat(s.Workdir); err != nil || !fi.IsDir() {
		return failRecord(s, fmt.Errorf("--workdir %s: not a directory", s.Workdir))
	}
	if term.IsTerminal(0) {
		s.Terminal = &spec.WindowSize{Rows: 24, Cols: 80}
		if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil && ws.Row > 0 {
			s.Terminal = &spec.WindowSize{Rows: ws.Row, Cols: ws.Col}
		}
	}
	maps := chooseIDMaps(s)
	home := os.Getenv("HOME")
	base, err := rootfs.StateBase(os.Getuid(), home)
	if err != nil {
		return failRecord(s, err)
	}

	// The state directory and the plan are made while the child starts.
	var (
		state rootfs.StateDir
		lock  *os.File
		plan  *rootfs.Plan
	)
	prepare := func() (*userns.Setup, error) {
		var err error
		if state, lock, err = rootfs.NewState(base, s.Keep); err != nil {
			return nil, err
		}
		if plan, err = makePlan(s, state, base, home); err != nil {
			return nil, err
		}
		return &userns.Setup{Spec: s, Plan: plan, NewRoot: state.Root()}, nil
	}
	sb := &userns.Sandbox{Spec: s, Prepare: prepare, Maps: maps, ExplainStart: explainStart}
	res := sb.Run()
	if res.Err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", res.Err)
	}
	rec := report.Record{
		ExitCode:   res.Code,
		Cause:      res.Cause,
		Signal:     report.SignalName(res.Signal),
		DurationMS: res.Duration.Milliseconds(),
	}
	if res.Err != nil && res.Cause == "setup-error" {
		rec.Error = res.Err.Error()
	}
	if res.MaxRSSKiB >= 0 {
		rec.MemoryPeakBytes = report.Int64(res.MaxRSSKiB * 1024)
	}

	// Every process inside is gone; while the kernel tears the namespaces
	// down, name the changes and remove the state.
	if plan != nil && (s.Diff || s.Keep != "") {
		rec.Changes = rootfs.Changes(plan.Layers)
		if rec.Changes == nil {
			rec.Changes = []rootfs.Change{}
		}
	}
	if s.Diff {
		printChanges(rec.Changes)
	}
	if lock != nil {
		lock.Close()
	}
	kept := false
	if s.Keep != "" && plan != nil && res.Cause != "setup-error" {
		sb.Reap() // the overlays must be gone before their layers move
		if err := rootfs.FinishKeep(state, plan.Layers); err != nil {
			fmt.Fprintln(os.Stderr, "sbx: --keep:", err)
		} else {
			kept = true
		}
	}
	if state != "" && !kept {
		removeState(state.Path(), maps)
	}
	if ru := sb.Reap(); ru != nil {
		rec.CPUUserMS = report.Int64(ru.Utime.Sec*1000 + int64(ru.Utime.Usec)/1000)
		rec.CPUSystemMS = report.Int64(ru.Stime.Sec*1000 + int64(ru.Stime.Usec)/1000)
	}
	if s.Report != "" {
		if err := report.Write(s.Report, rec); err != nil {
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

// makePlan gathers what the planner needs from the host and builds the plan.
func makePlan(s *spec.Spec, state rootfs.StateDir, base, home string) (*rootfs.Plan, error) {
	if err := state.WriteFiles(s.Hostname); err != nil {
		return nil, err
	}
	ensureGitHooksDir(s.Workdir)
	mi, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	points, err := rootfs.ParseMountPoints(mi)
	mi.Close()
	if err != nil {
		return nil, err
	}
	driver, fuse, err := overlayDriver(s, base)
	if err != nil {
		return nil, err
	}
	avoid := []string{base}
	if s.Keep != "" {
		avoid = append(avoid, s.Keep)
	}
	plan, err := rootfs.Build(rootfs.Inputs{
		Spec: s, Host: rootfs.OS{}, MountPoints: points, State: state,
		Avoid: avoid, Home: home, Driver: driver, FuseOverlayfs: fuse, Self: selfPath(),
	})
	if err != nil {
		return nil, err
	}
	return plan, state.MakeLayers(plan)
}

// ensureGitHooksDir creates an empty .git/hooks in a git workdir that lacks
// one, so it can be made read-only: a build must not plant a hook that git
// runs later on the host.
func ensureGitHooksDir(workdir string) {
	git := filepath.Join(workdir, ".git")
	if fi, err := os.Lstat(git); err == nil && fi.IsDir() {
		os.Mkdir(filepath.Join(git, "hooks"), 0o755)
	}
}

// removeState removes a run's state directory; what the caller cannot
// remove (files owned by subordinate ids) is removed inside a user
// namespace with the same maps.
func removeState(dir string, maps userns.Maps) {
	if rootfs.RemoveTree(dir) == nil {
		return
	}
	if err := userns.RemoveInNamespace(dir, maps); err != nil {
		fmt.Fprintf(os.Stderr, "sbx: warning: could not remove %s: %v\n", dir, err)
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
		fmt.Fprintf(os.Stderr, "%-9s %s\n", c.Kind, c.Path)
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
		report.Write(s.Report, report.Record{ExitCode: userns.ExitSetup, Cause: "setup-error", Error: err.Error()})
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
