package run

import (
	"fmt"
	"os"

	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// record is --report: the file is made before anything runs and written,
// through that descriptor, when every other part has stopped. The command
// may replace the name by a symlink meanwhile.
type record struct {
	file *report.File
}

func (*record) Name() string { return "record" }

func (p *record) Start(r *Run) error {
	if r.Spec.Report == "" {
		return nil
	}
	var err error
	if p.file, err = createRecord(r.Spec); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	return nil
}

func (p *record) Stop(r *Run) {
	if p.file == nil {
		return
	}
	if err := p.file.Write(*r.Record); err != nil {
		fmt.Fprintln(os.Stderr, "sbx: --report:", err)
	}
	p.file.Close()
}

// failureRecord is the record of a run that failed before its command
// started.
func failureRecord(err error) report.Record {
	return report.Record{ExitCode: userns.ExitSetup, Cause: "setup-error", Error: err.Error()}
}

// failRecord reports a failure before the parts start and still writes
// the run record.
func failRecord(s *spec.Spec, err error) int {
	fmt.Fprintln(os.Stderr, "sbx:", err)
	if s.Report != "" {
		if f, ferr := createRecord(s); ferr == nil {
			f.Write(failureRecord(err))
			f.Close()
		}
	}
	return userns.ExitSetup
}
