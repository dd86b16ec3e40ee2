package policy

import (
	"errors"
	"fmt"
	"strings"
)

// maxNameLen is the longest DNS name in text form, without the trailing dot.
const maxNameLen = 253

// foldName is a name as the policy compares it: ASCII lower case (RFC 4343;
// Unicode folding would let "\u212a" match a rule for "k"), no trailing dot.
func foldName(s string) string {
	s = strings.TrimSuffix(s, ".")
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// checkName says what is wrong with a folded host name, or nil. Labels hold
// letters, digits, hyphens and underscores (_dmarc, _acme-challenge): the
// characters of names that get looked up, and none that could make one name
// read as another in a rule or in the connection log.
func checkName(n string) error {
	if n == "" {
		return errors.New("empty name")
	}
	if len(n) > maxNameLen {
		return fmt.Errorf("name is %d characters long, more than %d", len(n), maxNameLen)
	}
	for label := range strings.SplitSeq(n, ".") {
		if label == "" {
			return errors.New("empty label (two dots in a row, or a leading dot)")
		}
		if len(label) > 63 {
			return fmt.Errorf("label %q is %d characters long, more than 63", label, len(label))
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !nameChar(c) {
				return fmt.Errorf("invalid character %q in %q (names hold letters, digits, '-' and '_')", c, label)
			}
		}
	}
	return nil
}

func nameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// parseDomain parses the host part of a name rule.
func parseDomain(host string) (domain string, wildcard bool, err error) {
	n := foldName(host)
	if n == "*" {
		return "", false, errors.New("a wildcard needs a domain after it, as in *.example.com")
	}
	if rest, ok := strings.CutPrefix(n, "*."); ok {
		n, wildcard = rest, true
		if n == "" {
			return "", false, errors.New("a wildcard needs a domain after it, as in *.example.com")
		}
	}
	if strings.Contains(n, "*") {
		return "", false, errors.New("a wildcard must be the whole leading label, as in *.example.com")
	}
	if err := checkName(n); err != nil {
		return "", false, err
	}
	// A top-level domain is never all digits, so a name that ends in one is a
	// mistyped address ("10.0.0.256", "1.2.3"), not a host to resolve.
	if last := n[strings.LastIndexByte(n, '.')+1:]; isDigits(last) {
		return "", false, fmt.Errorf("%q is neither a valid IP address nor a DNS name", host)
	}
	if isReverse(n) {
		return "", false, errors.New("reverse-lookup names (in-addr.arpa, ip6.arpa) cannot be allowed: with --allow-net, reverse lookups are refused")
	}
	return n, wildcard, nil
}

// isReverse reports whether a folded name is in a reverse-lookup zone.
func isReverse(n string) bool {
	for _, zone := range []string{"in-addr.arpa", "ip6.arpa"} {
		if n == zone || strings.HasSuffix(n, "."+zone) {
			return true
		}
	}
	return false
}

// matchName reports whether name rule r matches the folded name n: the
// domain itself, or for a wildcard any name strictly below it.
func (r *Rule) matchName(n string) bool {
	if r.Domain == "" {
		return false
	}
	if r.Wildcard {
		return len(n) > len(r.Domain)+1 && strings.HasSuffix(n, r.Domain) && n[len(n)-len(r.Domain)-1] == '.'
	}
	return n == r.Domain
}
