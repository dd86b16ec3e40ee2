package gitprotect

import (
	"fmt"
	"strings"
)

// entry reads `name`, `name = value` or `name = value \` + continuation
// lines; the first letter of the name has been read already.
func (p *parser) entry(section, subsection string, start int) (Entry, error) {
	e := Entry{Section: section, Subsection: subsection, Line: p.line, Start: start}
	nameStart := p.pos - 1
	for {
		c, ok := p.peek()
		if !ok || !isKeyChar(c) {
			break
		}
		p.pos++
	}
	e.Name = strings.ToLower(string(p.data[nameStart:p.pos]))
	for {
		c, ok := p.peek()
		if !ok || (c != ' ' && c != '\t') {
			break
		}
		p.pos++
	}
	c, ok := p.get()
	switch {
	case !ok || c == '\n':
		e.Bare = true
	case c == '=':
		v, err := p.value()
		if err != nil {
			return Entry{}, err
		}
		e.Value = v
	default:
		// git refuses this too, even `name # comment`.
		return Entry{}, p.fail(fmt.Sprintf("unexpected character %q after name %q", c, e.Name))
	}
	e.End = p.pos
	return e, nil
}

// value reads what follows '=' through the end of the line, as git's
// parse_value does: leading and trailing blanks outside quotes are
// dropped, inner ones kept, '#' and ';' outside quotes start a comment, a
// backslash before the newline continues the value on the next line.
func (p *parser) value() (string, error) {
	var b []byte
	quoted, comment := false, false
	trim := -1 // length to cut back to if only blanks follow; -1: none pending
	// Older git turns an unquoted tab inside a value into a space, newer
	// git keeps it; refuse rather than pick one.
	tabPending := false
	for {
		c, ok := p.get()
		if !ok || c == '\n' {
			if quoted {
				return "", p.fail("unterminated quote")
			}
			if trim >= 0 {
				b = b[:trim]
			}
			return string(b), nil
		}
		if comment {
			continue
		}
		if (c == ' ' || c == '\t') && !quoted {
			if trim < 0 {
				trim = len(b)
			}
			if len(b) > 0 {
				b = append(b, c)
				tabPending = tabPending || c == '\t'
			}
			continue
		}
		if !quoted && (c == '#' || c == ';') {
			comment = true
			continue
		}
		if tabPending {
			return "", p.fail("unquoted tab inside a value")
		}
		trim = -1
		switch c {
		case '"':
			quoted = !quoted
			continue
		case '\\':
			if c, ok = p.get(); !ok {
				return "", p.fail("backslash at end of file")
			}
			switch c {
			case '\n':
				continue
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'n':
				c = '\n'
			case '\\', '"':
			default:
				return "", p.fail(fmt.Sprintf("unknown escape \\%c", c))
			}
		}
		b = append(b, c)
	}
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isKeyChar(c byte) bool { return isAlpha(c) || '0' <= c && c <= '9' || c == '-' }
