package policy

import "net/netip"

// The verdict texts that are not a rule's or a class's.
const (
	RuleDefault           = "default"               // no rules were given and no class denies it
	RuleAllowHostLoopback = "--allow-host-loopback" // host loopback, opened by the flag
	RuleNone              = "no-rule"               // rules were given and none matches
)

// Options configure a Policy.
type Options struct {
	Rules             []Rule
	AllowHostLoopback bool         // --allow-host-loopback
	HostAddrs         []netip.Addr // the host's own addresses
}

// Verdict is a decision and what made it.
type Verdict struct {
	Allow bool
	// Rule is the --allow-net rule text that allowed it; or for the defaults
	// "default" (no rules were given, and no class denies it),
	// "--allow-host-loopback"; or, when denied, the class:
	// "metadata", "host-loopback", "link-local", "private", "host-address",
	// "invalid" (unspecified, multicast, broadcast), or "no-rule" (rules were given and none matches).
	Rule string
	Name string // the DNS name this address was learned for in this run, when known
}

// Policy is the egress policy of one run. Everything but the learned names
// is fixed by New, so only that table needs a lock.
type Policy struct {
	rules     []Rule
	opens     []classSet // opens[i]: the classes rules[i] opens
	loopback  bool
	hostAddrs map[netip.Addr]struct{}
	learned   *learned
}

// New builds the policy for a run.
func New(o Options) *Policy {
	p := &Policy{
		loopback:  o.AllowHostLoopback,
		hostAddrs: make(map[netip.Addr]struct{}, len(o.HostAddrs)),
		learned:   newLearned(maxLearned),
	}
	for _, a := range o.HostAddrs {
		if a.IsValid() {
			p.hostAddrs[plain(a)] = struct{}{}
		}
	}
	for _, r := range o.Rules {
		r = r.normalized()
		p.rules = append(p.rules, r)
		p.opens = append(p.opens, p.ruleOpens(r))
	}
	return p
}

// Restricted reports whether rules were given.
func (p *Policy) Restricted() bool { return len(p.rules) > 0 }

// plain is a without IPv4 mapping or zone: the form every check works on.
func plain(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }
