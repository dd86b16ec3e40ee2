package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Column widths of WriteText: the longest status plus two spaces, and the
// longest check name ("cgroup-delegation") plus one.
const (
	statusWidth = 6
	nameWidth   = 18
)

// WriteText writes one aligned line per check and, under each that is not
// ok, the fix indented by a status column, continuation lines aligned.
func WriteText(w io.Writer, checks []Check) {
	width := nameWidth
	for _, c := range checks {
		width = max(width, len(c.Name)+1)
	}
	indent := strings.Repeat(" ", statusWidth)
	for _, c := range checks {
		fmt.Fprintf(w, "%-*s%-*s%s\n", statusWidth, c.Status, width, c.Name, c.Detail)
		if c.Status == OK || c.Fix == "" {
			continue
		}
		for i, line := range strings.Split(c.Fix, "\n") {
			if i == 0 {
				fmt.Fprintf(w, "%sfix: %s\n", indent, line)
			} else {
				fmt.Fprintf(w, "%s     %s\n", indent, line)
			}
		}
	}
}

// WriteJSON writes the checks as one indented JSON array.
func WriteJSON(w io.Writer, checks []Check) error {
	if checks == nil {
		checks = []Check{} // "[]", not "null", for scripts that iterate
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(checks)
}

// Explain turns the first failing check into the one line `sbx run` prints
// before exiting 125: "<detail>; fix: <fix>", fix lines joined by "; ".
// It returns "" when nothing failed.
func Explain(checks []Check) string {
	for _, c := range checks {
		if c.Status != Fail {
			continue
		}
		if c.Fix == "" {
			return c.Detail
		}
		return c.Detail + "; fix: " + strings.ReplaceAll(c.Fix, "\n", "; ")
	}
	return ""
}
