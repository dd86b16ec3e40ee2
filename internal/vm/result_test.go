package vm

import (
	"strings"
	"testing"
	"time"
)

func parse(console string) *Result {
	p := newParser(time.Now())
	for _, l := range strings.Split(console, "\n") {
		p.line(l+"\r\n", time.Now())
	}
	return &p.res
}

func TestResult(t *testing.T) {
	const pass = "[    1.0] kernel\nRUN a\n    | one\n    |\n    | PASS b\nPASS a (0.50s)\nRUN b\nPASS b (0.10s)\n"
	for _, tc := range []struct {
		name, console, err string
	}{
		{"all pass", pass + "2 passed, 0 failed", ""},
		{"a failure", "RUN a\n    | not ok: x\nFAIL a (0.1s) exit 1\nRUN b\nPASS b (0.1s)\n1 passed, 1 failed", "1 passed, 1 failed: a"},
		{"no summary", pass, "no closing"},
		{"died in a script", "RUN a\n    | half\n[ 3.0] Kernel panic", "a (did not finish)"},
		{"nothing ran", "0 passed, 0 failed", "no script ran"},
		{"counts disagree", pass + "3 passed, 0 failed", "the runner counted 3 passed"},
		{"a failure the summary missed", "RUN a\nFAIL a (1s) exit 1\n1 passed, 0 failed", "failed: a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parse(tc.console).Err()
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("Err() = %v, want nil", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("Err() = %v, want one containing %q", err, tc.err)
			}
		})
	}

	r := parse(pass + "2 passed, 0 failed")
	if len(r.Scripts) != 2 || r.Scripts[0].Name != "a" || !r.Scripts[0].Passed || !r.Scripts[1].Done {
		t.Fatalf("scripts %+v", r.Scripts)
	}
	// Output lines keep what followed "| ", a result line in the output
	// is output, and the kernel's lines are not a script's.
	if got := strings.Join(r.Scripts[0].Output, "/"); got != "one//PASS b" {
		t.Errorf("a's output %q", got)
	}
}
