// Package gitprotect keeps code-running git state planted by a sandboxed command from reaching the host's repository.
package gitprotect

import (
	"bytes"
	"fmt"
	"strings"
)

// Entry is one `name = value` of a git config file.
type Entry struct {
	Section    string // lowercased
	Subsection string // as written; the deprecated [section.sub] form is lowercased, as git does
	Name       string // lowercased
	Value      string // quotes and escapes resolved
	Bare       bool   // a name with no `=`: git reads it as boolean true, unlike `name =`
	Line       int    // 1-based line of the name
	// data[Start:End] is the entry's text: from the start of its line (or
	// from the name, when a section header precedes it on the line) through
	// the newline of its last line (or the end of the data).
	Start, End int
}

// Key is the entry's name as `git config --list` prints it.
func (e Entry) Key() string {
	if e.Subsection == "" {
		return e.Section + "." + e.Name
	}
	return e.Section + "." + e.Subsection + "." + e.Name
}

// ParseError says where and why Parse gave up.
type ParseError struct {
	Line   int
	Reason string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// Parse reads a git config file. It follows git's own reader (config.c) but
// is stricter wherever git's reading is subtle or has changed between
// versions: whatever it is not sure about is an error, so that the caller
// keeps the host's file rather than guess which keys git would see.
func Parse(data []byte) ([]Entry, error) {
	if err := checkBytes(data); err != nil {
		return nil, err
	}
	p := &parser{data: data, line: 1}
	if bytes.HasPrefix(data, utf8BOM) { // git skips it too
		p.pos = len(utf8BOM)
	}
	var entries []Entry
	var section, subsection string
	inSection, headerOnLine := false, false
	for {
		c, ok := p.get()
		if !ok {
			return entries, nil
		}
		switch {
		case c == '\n':
			headerOnLine = false
		case c == ' ' || c == '\t':
		case c == '#' || c == ';':
			p.skipComment()
		case c == '[':
			var err error
			if section, subsection, err = p.header(); err != nil {
				return nil, err
			}
			inSection, headerOnLine = true, true
		case isAlpha(c):
			if !inSection {
				return nil, p.fail("entry before any section header")
			}
			start := p.lineStart
			if headerOnLine {
				start = p.pos - 1
			}
			e, err := p.entry(section, subsection, start)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
			headerOnLine = false
		default:
			return nil, p.fail(fmt.Sprintf("unexpected character %q", c))
		}
	}
}

// checkBytes rejects control characters git treats inconsistently: NUL
// ends a C string inside git's value, a lone CR counts as space in some
// places only, and so on. Only tab, LF and CRLF are accepted.
func checkBytes(data []byte) error {
	line := 1
	for i, c := range data {
		switch {
		case c == '\n':
			line++
		case c == '\t':
		case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
		case c < 0x20:
			return &ParseError{Line: line, Reason: fmt.Sprintf("control character %q", c)}
		}
	}
	return nil
}

type parser struct {
	data      []byte
	pos       int
	line      int
	lineStart int
	pendingNL bool // the last get returned a newline; count it on the next get
}

func (p *parser) fail(reason string) error { return &ParseError{Line: p.line, Reason: reason} }

// get returns the next character, CRLF folded into '\n'.
func (p *parser) get() (byte, bool) {
	if p.pendingNL {
		p.line++
		p.lineStart = p.pos
		p.pendingNL = false
	}
	if p.pos >= len(p.data) {
		return 0, false
	}
	c := p.data[p.pos]
	p.pos++
	if c == '\r' { // checkBytes made sure '\n' follows
		p.pos++
		c = '\n'
	}
	if c == '\n' {
		p.pendingNL = true
	}
	return c, true
}

func (p *parser) peek() (byte, bool) {
	if p.pos >= len(p.data) {
		return 0, false
	}
	return p.data[p.pos], true
}

func (p *parser) skipComment() {
	for {
		c, ok := p.peek()
		if !ok || c == '\n' || c == '\r' {
			return
		}
		p.pos++
	}
}

// header reads what follows '[' up to and including ']'.
func (p *parser) header() (section, subsection string, err error) {
	start := p.pos
	for {
		c, ok := p.peek()
		if !ok || !(isKeyChar(c) || c == '.') {
			break
		}
		p.pos++
	}
	name := strings.ToLower(string(p.data[start:p.pos]))
	c, ok := p.get()
	switch {
	case !ok || c == '\n':
		return "", "", p.fail("unterminated section header")
	case c == ']':
		return splitDeprecated(p, name)
	case c != ' ' && c != '\t':
		return "", "", p.fail(fmt.Sprintf("bad character %q in section header", c))
	}
	// [section "subsection"]. git accepts a dotted section here and glues
	// the parts into one key; which part a reader takes as the subsection
	// is then unclear, so refuse it.
	if name == "" || strings.Contains(name, ".") {
		return "", "", p.fail("bad section name before subsection")
	}
	for c == ' ' || c == '\t' {
		if c, ok = p.get(); !ok {
			return "", "", p.fail("unterminated section header")
		}
	}
	if c != '"' {
		return "", "", p.fail("expected '\"' in section header")
	}
	sub, err := p.quotedSubsection()
	if err != nil {
		return "", "", err
	}
	if c, ok = p.get(); !ok || c != ']' {
		return "", "", p.fail("expected ']' after subsection")
	}
	return name, sub, nil
}

// splitDeprecated splits [section.sub.more] at its first dot, as git's
// readers do (parse_config_key), so the subsection is "sub.more".
func splitDeprecated(p *parser, name string) (string, string, error) {
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return "", "", p.fail("bad section name")
		}
	}
	section, sub, _ := strings.Cut(name, ".")
	return section, sub, nil
}

func (p *parser) quotedSubsection() (string, error) {
	var b []byte
	for {
		c, ok := p.get()
		if !ok || c == '\n' {
			return "", p.fail("unterminated subsection")
		}
		switch c {
		case '"':
			if len(b) == 0 {
				// git reads it as "section..name"; nothing writes that.
				return "", p.fail("empty subsection")
			}
			return string(b), nil
		case '\\':
			// git has both kept and dropped the backslash of other
			// escapes over the years; accept only the documented two.
			if c, ok = p.get(); !ok || (c != '"' && c != '\\') {
				return "", p.fail("unknown escape in subsection")
			}
		}
		b = append(b, c)
	}
}
