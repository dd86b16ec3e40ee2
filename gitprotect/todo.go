package gitprotect

import "strings"

// isRebaseTodo tells the files holding the instruction list of an
// interrupted `rebase -i` (rebase-merge/git-rebase-todo) or cherry-pick and
// revert sequence (sequencer/todo); dir is the name of their directory.
func isRebaseTodo(name, dir string) bool {
	return name == "git-rebase-todo" || name == "todo" && dir == "sequencer"
}

// newExecLine returns the first `exec`/`x` line of sandbox that host does
// not have. Letters are compared without case, more widely than git does.
func newExecLine(host, sandbox []byte) (string, bool) {
	had := map[string]bool{}
	for _, l := range execLines(host) {
		had[l] = true
	}
	for _, l := range execLines(sandbox) {
		if !had[l] {
			return l, true
		}
	}
	return "", false
}

func execLines(data []byte) []string {
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimLeft(line, " \t")
		word, _, _ := strings.Cut(line, " ")
		word, _, _ = strings.Cut(word, "\t")
		switch strings.ToLower(strings.TrimRight(word, "\r")) {
		case "x", "exec":
			lines = append(lines, strings.TrimRight(line, " \t\r"))
		}
	}
	return lines
}
