package gitprotect

import (
	"errors"
	"fmt"
)

// Filter returns what to write back to the host for a config file the
// command changed: sandbox (the command's version) without every
// code-running entry that host (the host's current version) lacks with the
// same key and value. A setting the host already had stays and deleting one
// is allowed; one that is new or changed is removed, whole lines, and its
// key listed in refused, each key once. When sandbox does not parse, out is
// host, unchanged, and refused names the problem.
func Filter(host, sandbox []byte) (out []byte, refused []string) {
	out, refused, err := filterConfig(host, sandbox)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return host, []string{fmt.Sprintf("unparseable: line %d", pe.Line)}
		}
		return host, []string{err.Error()}
	}
	return out, refused
}

// filterConfig is Filter with the reason for keeping host kept as an error.
func filterConfig(host, sandbox []byte) ([]byte, []string, error) {
	entries, err := Parse(sandbox)
	if err != nil {
		return nil, nil, err
	}
	allowed := hostRunsCode(host)
	out := make([]byte, 0, len(sandbox))
	var refused []string
	seen := map[string]bool{}
	last := 0
	for _, e := range entries {
		if !RunsCode(e) || allowed[identity(e)] {
			continue
		}
		out = append(out, sandbox[last:e.Start]...)
		if e.Start > 0 && sandbox[e.Start-1] != '\n' {
			// A header shares the line: keep it, and the line's end, so
			// the next line stays a line of its own.
			out = append(out, lineEnd(sandbox[e.Start:e.End])...)
		}
		last = e.End
		if k := e.Key(); !seen[k] {
			seen[k] = true
			refused = append(refused, k)
		}
	}
	out = append(out, sandbox[last:]...)
	// Removing whole lines cannot change how the rest reads, but the
	// promise is worth checking rather than arguing.
	again, err := Parse(out)
	if err != nil {
		return nil, nil, fmt.Errorf("filtered config does not parse: %w", err)
	}
	for _, e := range again {
		if RunsCode(e) && !allowed[identity(e)] {
			return nil, nil, fmt.Errorf("filtered config still sets %s", e.Key())
		}
	}
	return out, refused, nil
}

// hostRunsCode is the set of code-running entries the host's file already
// has. A host file that does not parse grants nothing.
func hostRunsCode(host []byte) map[string]bool {
	set := map[string]bool{}
	entries, err := Parse(host)
	if err != nil {
		return set
	}
	for _, e := range entries {
		if RunsCode(e) {
			set[identity(e)] = true
		}
	}
	return set
}

func identity(e Entry) string {
	if e.Bare {
		return e.Key() + "\x00bare"
	}
	return e.Key() + "\x00=" + e.Value
}

func lineEnd(span []byte) []byte {
	n := len(span)
	switch {
	case n >= 2 && span[n-2] == '\r' && span[n-1] == '\n':
		return span[n-2:]
	case n >= 1 && span[n-1] == '\n':
		return span[n-1:]
	}
	return nil
}
