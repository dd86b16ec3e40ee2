package run

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// begin makes the Spec from the options and what sbx knows of its caller,
// and the Run the parts share. Without a Run, code is sbx's status: the
// failure is printed, and recorded once the Spec says where.
func begin(o spec.Options) (r *Run, code int) {
	if insideSbx() {
		return nil, fail(errNested)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fail(fmt.Errorf("cannot read the current directory: %w", err))
	}
	o.Homes = []string{os.Getenv("HOME"), rootfs.PasswdHome()}
	o.LastCap = userns.LastCap()
	s, err := spec.Build(o, spec.Caller{Env: os.Environ(), Cwd: cwd})
	if err != nil {
		return nil, fail(err)
	}
	if err := resolveWorkdir(s, o.Homes); err != nil {
		return nil, failRecord(s, err)
	}
	warnSymlinkedSelf(s, invokedAs())
	noteOutsideRepository(s)
	sizeTerminal(s)
	home := os.Getenv("HOME")
	base, err := rootfs.StateBase(os.Getuid(), home)
	if err != nil {
		return nil, failRecord(s, err)
	}
	return &Run{
		Spec: s, Home: home, Base: base,
		Sandbox: &userns.Sandbox{Spec: s, ExplainStart: explainStart},
		Record:  &report.Record{},
	}, 0
}

// sizeTerminal says which of the standard descriptors are terminals, and
// the size of the first one: the command gets a pty of that size.
func sizeTerminal(s *spec.Spec) {
	for fd := range s.TerminalFDs {
		s.TerminalFDs[fd] = term.IsTerminal(fd)
		if s.TerminalFDs[fd] && s.Terminal == nil {
			s.Terminal = &spec.WindowSize{Rows: 24, Cols: 80}
			if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil && ws.Row > 0 {
				s.Terminal = &spec.WindowSize{Rows: ws.Row, Cols: ws.Col}
			}
		}
	}
	s.TerminalTranslates = s.Terminal != nil && userns.OutputTranslated(s.TerminalFDs)
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "sbx:", err)
	return userns.ExitSetup
}
