package run

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/sbx-sandbox/sbx/cgdelegate"
	"github.com/sbx-sandbox/sbx/spec"
)

// limits is --memory, --cpus, --cpuset, --pids and --io-*-bps: a cgroup of
// the run's own under the caller's delegated cgroup v2 subtree, made and
// filled before the child starts, which is cloned straight into it; its
// accounting is read into the record after the command, and the cgroup
// removed. Strict mode refuses a limit nothing can hold; best-effort runs
// without it (or with an rlimit where one means the same) and says so.
type limits struct {
	h    cgdelegate.Hierarchy
	base string // the cgroup the leaf was made under
	leaf *cgdelegate.Leaf
	fd   *os.File
	sum  *cgdelegate.Summary
}

func (*limits) Name() string { return "limits" }

func (p *limits) Start(r *Run) error {
	asked := r.Spec.Limits
	if !asked.Asked() {
		return nil
	}
	req, err := parseLimits(asked)
	if err != nil {
		return err
	}
	strict := asked.Mode != spec.LimitsBestEffort
	p.sum = cgdelegate.NewSummary(string(asked.Mode), req)
	failed, err := p.useCgroup(r, req)
	if err != nil {
		failed = map[string]error{}
		for _, l := range req.Limits() {
			failed[l.Flag] = err
		}
	}
	for _, l := range req.Limits() {
		if failed[l.Flag] == nil {
			p.sum.Enforced[l.Flag] = cgdelegate.File(l.Flag)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	if strict {
		p.removeLeaf()
		return refusal(p.h, failed)
	}
	p.bestEffort(r, req, failed)
	return nil
}

// useCgroup makes the run's cgroup and writes the limits into it. An
// error means no cgroup could be had; failed are the limits that could
// not be written into the one made.
func (p *limits) useCgroup(r *Run, req cgdelegate.Request) (failed map[string]error, err error) {
	host := cgdelegate.RealHost()
	if p.h, err = cgdelegate.Find(host); err != nil {
		return nil, err
	}
	need := req.Controllers()
	p.base, err = cgdelegate.Place(host, p.h, need)
	var nd *cgdelegate.NotDelegated
	if errors.As(err, &nd) {
		p.base, err = p.inScope(host, need, err)
	}
	if err != nil {
		return nil, err
	}
	if p.leaf, err = cgdelegate.NewLeaf(p.h, p.base, need); err != nil {
		return nil, err
	}
	failed = req.Apply(p.leaf.Dir)
	// The same limits where the sandbox sees them (its /sys/fs/cgroup);
	// the leaf's hold them either way.
	req.Apply(p.leaf.Sandbox)
	if p.fd, err = p.leaf.Open(); err != nil {
		p.removeLeaf()
		return nil, err
	}
	cg := p.leaf.Path
	p.sum.Cgroup = &cg
	r.Sandbox.Cgroup = p.fd
	r.Sandbox.KillAll = p.leaf.Kill
	r.Spec.CgroupNS = true
	return failed, nil
}

// inScope moves sbx into a delegated scope of the systemd user manager's
// and places the leaf in it; when there is none to ask, the error is
// still why sbx's own cgroup would not do.
func (p *limits) inScope(host cgdelegate.Host, need []string, notDelegated error) (string, error) {
	if _, err := cgdelegate.EnterScope(); err != nil {
		if errors.Is(err, cgdelegate.ErrNoUserManager) {
			return "", notDelegated
		}
		return "", fmt.Errorf("%w; asking for a delegated scope: %v", notDelegated, err)
	}
	h, err := cgdelegate.Find(host)
	if err != nil {
		return "", err
	}
	p.h = h
	return cgdelegate.PlaceOwn(host, h, need)
}

// bestEffort runs with what could be had: --pids as RLIMIT_NPROC where no
// cgroup holds it, and one line saying what is not enforced.
func (p *limits) bestEffort(r *Run, req cgdelegate.Request, failed map[string]error) {
	if failed["--pids"] != nil && os.Getuid() != 0 {
		// The kernel counts the processes of the sandbox's user (in its
		// user namespace) against it, threads included, as pids.max
		// counts tasks. It never holds the host's root.
		r.Spec.NProc = uint64(req.Pids)
		p.sum.Enforced["--pids"] = "RLIMIT_NPROC"
		delete(failed, "--pids")
	}
	var flags []string
	for flag, err := range failed {
		why, _ := cgdelegate.Explain(p.h, err)
		p.sum.NotEnforced[flag] = why
		flags = append(flags, flag)
	}
	if len(flags) == 0 {
		return
	}
	sort.Strings(flags)
	why, _ := cgdelegate.Explain(p.h, failed[flags[0]])
	fmt.Fprintf(os.Stderr, "sbx: --limits best-effort: not enforced: %s (%s)\n", strings.Join(flags, " "), why)
}

// refusal is strict mode's error: which limits, why, and the fix.
func refusal(h cgdelegate.Hierarchy, failed map[string]error) error {
	var flags []string
	for flag := range failed {
		flags = append(flags, flag)
	}
	sort.Strings(flags)
	why, fix := cgdelegate.Explain(h, failed[flags[0]])
	msg := fmt.Sprintf("%s cannot be enforced here: %s", strings.Join(flags, " "), why)
	if fix != "" {
		msg += ". Fix: " + fix
	}
	return errors.New(msg + "; or --limits best-effort to run without what cannot be enforced (sbx doctor tells what this host allows)")
}

func (p *limits) Stop(r *Run) {
	if p.sum == nil {
		return
	}
	if p.leaf != nil && r.ran() {
		u := cgdelegate.Measure(p.leaf.Dir)
		p.sum.Usage = u
		// The cgroup's peak is every process's memory at once, a truer
		// total than the largest single process's that PID 1 measured.
		if u.MemoryPeakBytes != nil {
			r.Record.MemoryPeakBytes = u.MemoryPeakBytes
		}
		r.Record.PidsPeak = u.PidsPeak
		p.outOfMemory(r, u)
	}
	p.removeLeaf()
	if p.leaf != nil {
		cgdelegate.RemoveStale(p.h, p.base)
	}
	r.Record.Limits = p.sum
}

// outOfMemory says so when the kernel killed a process at --memory; the
// run's cause is "oom" when that process was the command itself.
func (p *limits) outOfMemory(r *Run, u *cgdelegate.Usage) {
	if u.OOMKills == nil || *u.OOMKills == 0 {
		return
	}
	peak := "unknown"
	if u.MemoryPeakBytes != nil {
		peak = cgdelegate.HumanSize(*u.MemoryPeakBytes)
	}
	fmt.Fprintf(os.Stderr, "sbx: out of memory: the kernel killed %d process(es) at the --memory limit of %s (peak %s)\n",
		*u.OOMKills, cgdelegate.HumanSize(*p.sum.Requested.MemoryBytes), peak)
	if r.Result.Signal == 9 {
		r.Result.Cause, r.Record.Cause = "oom", "oom"
	}
}

func (p *limits) removeLeaf() {
	if p.fd != nil {
		p.fd.Close()
		p.fd = nil
	}
	if p.leaf != nil {
		if err := p.leaf.Remove(); err != nil {
			fmt.Fprintf(os.Stderr, "sbx: %v (the next run removes it)\n", err)
		}
	}
}

// parseLimits reads the limit flags; a malformed value is named with its
// flag.
func parseLimits(l spec.Limits) (cgdelegate.Request, error) {
	var req cgdelegate.Request
	var err error
	flag := func(name string, e error) error {
		if e != nil && err == nil {
			err = fmt.Errorf("%s %w", name, e)
		}
		return e
	}
	if l.Memory != "" {
		if req.Memory, err = cgdelegate.ParseSize(l.Memory); err != nil {
			return req, fmt.Errorf("--memory %w", err)
		}
	}
	swap, e := cgdelegate.ParseMemorySwap(req.Memory, l.MemorySwap)
	if flag("--memory-swap", e) == nil {
		req.SwapMax, req.MemorySwap = swap, l.MemorySwap != ""
	}
	if l.CPUs != "" {
		req.CPUs, e = cgdelegate.ParseCPUs(l.CPUs)
		flag("--cpus", e)
	}
	if l.Cpuset != "" {
		req.Cpuset, e = cgdelegate.ParseCPUList(l.Cpuset)
		flag("--cpuset", e)
	}
	if l.Pids != "" {
		req.Pids, e = cgdelegate.ParsePids(l.Pids)
		flag("--pids", e)
	}
	for _, v := range l.IORead {
		io, e := cgdelegate.ParseIOLimit(v)
		if flag("--io-read-bps", e) == nil {
			req.IORead = append(req.IORead, io)
		}
	}
	for _, v := range l.IOWrite {
		io, e := cgdelegate.ParseIOLimit(v)
		if flag("--io-write-bps", e) == nil {
			req.IOWrite = append(req.IOWrite, io)
		}
	}
	return req, err
}
