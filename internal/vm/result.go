package vm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The runner's lines on the console (testscripts/vm/runner):
//
//	RUN NAME                 a script starts
//	    | TEXT               a line of its output (stdout and stderr)
//	PASS NAME (1.23s)        it ended with status 0
//	FAIL NAME (1.23s) WHY    it did not
//	N passed, N failed       the end of the suite
//
// Anything else (the kernel's messages, init's) is only shown.

// Result is what one boot of a suite reported.
type Result struct {
	Scripts []Script
	// Passed and Failed are the runner's closing line; Summary says
	// whether it came (without it the suite did not finish).
	Passed, Failed int
	Summary        bool
	// BootTime is from qemu's start to the first script's start; Wall
	// is qemu's whole run.
	BootTime, Wall time.Duration
	// Tail is the console's last lines, to show when something broke.
	Tail []string
}

// Script is one script's result.
type Script struct {
	Name   string
	Done   bool // a PASS or FAIL line came
	Passed bool
	Output []string // its lines, without the "    | " prefix
	// Line is its PASS or FAIL line; Duration is measured here, from its
	// RUN line to that line.
	Line     string
	Duration time.Duration
}

// Err says why the suite did not pass, nil when it did.
func (r *Result) Err() error {
	var failed []string
	passed := 0
	for _, s := range r.Scripts {
		switch {
		case !s.Done:
			failed = append(failed, s.Name+" (did not finish)")
		case !s.Passed:
			failed = append(failed, s.Name)
		default:
			passed++
		}
	}
	switch {
	case !r.Summary:
		return fmt.Errorf("no closing \"N passed, N failed\" line: the suite did not finish (failed: %s); the console ended:\n%s",
			list(failed), strings.Join(r.Tail, "\n"))
	case r.Failed > 0 || len(failed) > 0:
		return fmt.Errorf("%d passed, %d failed: %s", r.Passed, r.Failed, list(failed))
	case r.Passed == 0:
		return fmt.Errorf("no script ran")
	case r.Passed != passed:
		return fmt.Errorf("the runner counted %d passed, the console showed %d", r.Passed, passed)
	}
	return nil
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

var (
	resultLine  = regexp.MustCompile(`^(RUN|PASS|FAIL) (\S+)`)
	summaryLine = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)
)

const tailLines = 60

// parser turns console lines into a Result as they come.
type parser struct {
	res     Result
	start   time.Time
	cur     int // the index of the script running, -1 for none
	started time.Time
}

func newParser(start time.Time) *parser { return &parser{start: start, cur: -1} }

func (p *parser) line(s string, now time.Time) {
	s = strings.TrimRight(s, "\r\n")
	p.res.Tail = append(p.res.Tail, s)
	if len(p.res.Tail) > tailLines {
		p.res.Tail = p.res.Tail[1:]
	}
	if t := strings.TrimLeft(s, " "); t == "|" || strings.HasPrefix(t, "| ") {
		if p.cur >= 0 {
			sc := &p.res.Scripts[p.cur]
			sc.Output = append(sc.Output, strings.TrimPrefix(strings.TrimPrefix(t, "|"), " "))
		}
		return
	}
	if m := summaryLine.FindStringSubmatch(s); m != nil {
		p.res.Passed, _ = strconv.Atoi(m[1])
		p.res.Failed, _ = strconv.Atoi(m[2])
		p.res.Summary = true
		return
	}
	m := resultLine.FindStringSubmatch(s)
	if m == nil {
		return
	}
	switch m[1] {
	case "RUN":
		if len(p.res.Scripts) == 0 {
			p.res.BootTime = now.Sub(p.start)
		}
		p.res.Scripts = append(p.res.Scripts, Script{Name: m[2]})
		p.cur = len(p.res.Scripts) - 1
		p.started = now
	default:
		if p.cur < 0 || p.res.Scripts[p.cur].Name != m[2] {
			// A result without its RUN line: the console lost it.
			p.res.Scripts = append(p.res.Scripts, Script{Name: m[2]})
			p.cur = len(p.res.Scripts) - 1
			p.started = now
		}
		sc := &p.res.Scripts[p.cur]
		sc.Done = true
		sc.Passed = m[1] == "PASS"
		sc.Line = s
		sc.Duration = now.Sub(p.started)
		p.cur = -1
	}
}
