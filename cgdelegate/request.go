package cgdelegate

// Request is the limits one run asked for, parsed; a zero field was not
// asked for.
type Request struct {
	Memory  int64  // memory.max, bytes
	SwapMax string // memory.swap.max as ParseMemorySwap gives it; "" without --memory
	// MemorySwap is set when --memory-swap was given (SwapMax then
	// carries it); without it, swap is off.
	MemorySwap      bool
	CPUs            float64
	Cpuset          string
	Pids            int64
	IORead, IOWrite []IOLimit
}

// Limit names one asked limit by its flag, with the controller that
// enforces it.
type Limit struct {
	Flag       string // "--memory"
	Controller string // "memory"
}

// Limits lists what r asks for, in the command line's order.
func (r Request) Limits() []Limit {
	var out []Limit
	add := func(asked bool, flag, ctl string) {
		if asked {
			out = append(out, Limit{flag, ctl})
		}
	}
	add(r.Memory > 0, "--memory", "memory")
	add(r.MemorySwap, "--memory-swap", "memory")
	add(r.CPUs > 0, "--cpus", "cpu")
	add(r.Cpuset != "", "--cpuset", "cpuset")
	add(r.Pids > 0, "--pids", "pids")
	add(len(r.IORead) > 0, "--io-read-bps", "io")
	add(len(r.IOWrite) > 0, "--io-write-bps", "io")
	return out
}

// Controllers are the controllers r needs, each once.
func (r Request) Controllers() []string {
	var out []string
	for _, l := range r.Limits() {
		if len(without([]string{l.Controller}, out)) > 0 {
			out = append(out, l.Controller)
		}
	}
	return out
}

// Apply writes r's limits into cgroup dir; the errors are by flag, for
// the limits that could not be written (a missing io device, swap without
// accounting).
func (r Request) Apply(dir string) map[string]error {
	errs := map[string]error{}
	note := func(flag string, err error) {
		if err != nil {
			errs[flag] = err
		}
	}
	if r.Memory > 0 {
		err := SetMemory(dir, r.Memory, r.SwapMax)
		note("--memory", err)
		if r.MemorySwap {
			note("--memory-swap", err)
		}
	}
	if r.CPUs > 0 {
		note("--cpus", SetCPUs(dir, r.CPUs))
	}
	if r.Cpuset != "" {
		note("--cpuset", SetCpuset(dir, r.Cpuset))
	}
	if r.Pids > 0 {
		note("--pids", SetPids(dir, r.Pids))
	}
	if len(r.IORead)+len(r.IOWrite) > 0 {
		err := SetIO(dir, r.IORead, r.IOWrite)
		if len(r.IORead) > 0 {
			note("--io-read-bps", err)
		}
		if len(r.IOWrite) > 0 {
			note("--io-write-bps", err)
		}
	}
	return errs
}
