package policy

import "net/netip"

// Dial decides a connection to dst, as the host would dial it, over network
// "tcp" or "udp". Any other network fails closed as invalid.
func (p *Policy) Dial(network string, dst netip.AddrPort) Verdict {
	a, port := plain(dst.Addr()), dst.Port()
	var v Verdict
	var names []string
	if a.IsValid() {
		names = p.learned.names(a)
	}
	if len(names) > 0 {
		v.Name = names[0]
	}
	if network != "tcp" && network != "udp" || !a.IsValid() || port == 0 {
		v.Rule = ClassInvalid
		return v
	}
	cls := p.classesOf(a)
	var opened classSet
	for i := range p.rules {
		name, ok := p.rules[i].matchDial(a, port, names)
		if !ok {
			continue
		}
		opened |= p.opens[i]
		if p.opens[i]&cls == cls {
			v.Allow, v.Rule = true, p.rules[i].Text
			if name != "" {
				v.Name = name
			}
			return v
		}
	}
	switch {
	case cls == 0 && !p.Restricted():
		v.Allow, v.Rule = true, RuleDefault
		return v
	case cls == 0:
		v.Rule = RuleNone
		return v
	case p.loopback && cls == 1<<classHostLoopback:
		v.Allow, v.Rule = true, RuleAllowHostLoopback
		return v
	}
	if p.loopback {
		opened |= 1 << classHostLoopback
	}
	c, ok := (cls &^ opened).first()
	if !ok {
		// Every class was opened, but by different rules; as classes nest
		// this cannot happen, and if it did, denying is the safe answer.
		c, _ = cls.first()
	}
	v.Rule = c.String()
	return v
}

// matchDial reports whether r matches a connection to a:port, names being
// what a was learned for; for a name rule, name is the one that matched.
func (r *Rule) matchDial(a netip.Addr, port uint16, names []string) (name string, ok bool) {
	if r.Port != 0 && r.Port != port {
		return "", false
	}
	if r.Prefix.IsValid() {
		return "", r.Prefix.Contains(a)
	}
	for _, n := range names {
		if r.matchName(n) {
			return n, true
		}
	}
	return "", false
}
