package run

import (
	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/seccomp"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// protections are what hold the command back once it runs: its
// capabilities (settled in the Spec) and the system call filter.
type protections struct {
	filter *seccomp.Program
}

func (*protections) Name() string { return "protections" }

func (*protections) Start(*Run) error { return nil }

// Prepare compiles the filter here, on the host: a profile file is read
// before anything runs, and a bad one stops the run.
func (p *protections) Prepare(r *Run, setup *userns.Setup) error {
	s := r.Spec
	var err error
	if p.filter, err = seccomp.Compile(seccomp.Options{Profile: s.Seccomp, Caps: s.Caps.Names(), AllowNestedUserns: s.AllowNestedUserns}); err != nil {
		return err
	}
	setup.Seccomp = p.filter
	return nil
}

func (p *protections) Stop(r *Run) {
	if p.filter != nil {
		r.Record.Protections = reportProtections(r.Spec, p.filter)
	}
}

// reportProtections is the report's account of the command's privileges.
func reportProtections(s *spec.Spec, filter *seccomp.Program) *report.Protections {
	return &report.Protections{
		Seccomp:      report.Seccomp{Mode: string(filter.Mode), Profile: filter.Source, Rules: filter.Rules},
		Capabilities: s.Caps.Names(),
		NoNewPrivs:   true,
		NestedUserns: s.AllowNestedUserns,
	}
}
