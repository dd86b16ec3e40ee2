package run

import (
	"errors"
	"slices"
	"testing"

	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// logged is a part that notes its calls in a shared log.
type logged struct {
	name string
	err  error // Start's
	log  *[]string
}

func (p *logged) Name() string { return p.name }

func (p *logged) Start(*Run) error {
	*p.log = append(*p.log, "start "+p.name)
	return p.err
}

func (p *logged) Stop(r *Run) {
	*p.log = append(*p.log, "stop "+p.name)
}

// TestPartFailsToStart: the parts before it stop, in reverse, the sandbox
// never starts, and the record says sbx failed and why.
func TestPartFailsToStart(t *testing.T) {
	var log []string
	r := &Run{Spec: &spec.Spec{}, Sandbox: &userns.Sandbox{}, Record: &report.Record{}}
	_, stderr := runtest.Captured(t, t.TempDir(), func() int {
		r.run([]Part{
			&logged{name: "a", log: &log},
			&logged{name: "b", log: &log},
			&logged{name: "c", err: errors.New("no"), log: &log},
			&logged{name: "d", log: &log},
		})
		return 0
	})
	if stderr != "sbx: no\n" {
		t.Errorf("stderr %q, want the one line", stderr)
	}
	if want := []string{"start a", "start b", "start c", "stop b", "stop a"}; !slices.Equal(log, want) {
		t.Errorf("calls %q, want %q", log, want)
	}
	if r.ran() || r.Result.Code != userns.ExitSetup || r.Result.Cause != "setup-error" {
		t.Errorf("ran %v, result %+v", r.ran(), r.Result)
	}
	if rec := *r.Record; rec.ExitCode != userns.ExitSetup || rec.Cause != "setup-error" || rec.Error != "no" || rec.EnvDropped != nil {
		t.Errorf("record %+v, want only the failure", rec)
	}
}
