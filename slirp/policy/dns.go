package policy

import "net/netip"

// Question decides a DNS question for name. Verdict.Name is the name as the
// policy compared it (lower case, no trailing dot).
func (p *Policy) Question(name string) Verdict {
	n := foldName(name)
	v := Verdict{Name: n}
	if !p.Restricted() {
		v.Allow, v.Rule = true, RuleDefault
		return v
	}
	v.Rule = RuleNone
	// A malformed name is refused rather than matched: whatever escaping the
	// caller used, a rule must never match text the resolver reads otherwise.
	if isReverse(n) || checkName(n) != nil {
		return v
	}
	for i := range p.rules {
		if p.rules[i].matchName(n) {
			v.Allow, v.Rule = true, p.rules[i].Text
			return v
		}
	}
	return v
}

// Learn records that the built-in DNS answered the question for name with
// addrs. name is the question's name, not a CNAME target: that is what the
// rules were checked against. With rules, a name that Question would refuse
// is ignored, so the table holds only names the user allowed.
func (p *Policy) Learn(name string, addrs []netip.Addr) {
	n := foldName(name)
	if n == "" || len(n) > maxNameLen || !p.Question(n).Allow {
		return
	}
	for _, a := range addrs {
		if a.IsValid() {
			p.learned.add(plain(a), n)
		}
	}
}
