package policy

import "net/netip"

// A class is a kind of destination that is denied unless a rule opens it.
// The order of the constants is the order of the checks: a denial names the
// first class that nothing opened.
type class uint8

const (
	classMetadata class = iota
	classHostLoopback
	classLinkLocal
	classPrivate
	classHostAddress
	classInvalid
	numClasses
)

// The class names as they appear in Verdict.Rule.
const (
	ClassMetadata     = "metadata"
	ClassHostLoopback = "host-loopback"
	ClassLinkLocal    = "link-local"
	ClassPrivate      = "private"
	ClassHostAddress  = "host-address"
	ClassInvalid      = "invalid"
)

var classNames = [numClasses]string{
	ClassMetadata, ClassHostLoopback, ClassLinkLocal, ClassPrivate, ClassHostAddress, ClassInvalid,
}

func (c class) String() string { return classNames[c] }

// classSet holds one bit per class.
type classSet uint8

func (s classSet) has(c class) bool { return s&(1<<c) != 0 }

// first is the first class in check order that s holds; ok is false when s
// is empty.
func (s classSet) first() (c class, ok bool) {
	for c = 0; c < numClasses; c++ {
		if s.has(c) {
			return c, true
		}
	}
	return 0, false
}

// classPrefixes are the classes defined by address ranges. host-address
// depends on the host and is checked against Options.HostAddrs instead.
var classPrefixes = [numClasses][]netip.Prefix{
	// The cloud metadata services: AWS, GCP, Azure and most others at the
	// link-local address, AWS's IPv6 endpoint, and Azure's wire server.
	classMetadata:     prefixes("169.254.169.254/32", "fd00:ec2::254/128", "168.63.129.16/32"),
	classHostLoopback: prefixes("127.0.0.0/8", "::1/128"),
	classLinkLocal:    prefixes("169.254.0.0/16", "fe80::/10"),
	classPrivate: prefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"100.64.0.0/10", "fc00::/7"),
	classInvalid: invalidPrefixes,
}

// invalidPrefixes name no host to connect to. The host's kernel takes
// 0.0.0.0 for itself, so allowing it would be a way round host-loopback.
var invalidPrefixes = prefixes("0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32")

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// prefixInside reports whether p lies wholly inside one of ps.
func prefixInside(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func addrIn(a netip.Addr, ps []netip.Prefix) bool {
	for _, q := range ps {
		if q.Contains(a) {
			return true
		}
	}
	return false
}

// classesOf gives every class a (unmapped, no zone) is in. A loopback
// address of the host is host-loopback only, so that --allow-host-loopback,
// which opens that class, works although HostAddrs lists 127.0.0.1.
func (p *Policy) classesOf(a netip.Addr) classSet {
	var s classSet
	for c := range numClasses {
		if addrIn(a, classPrefixes[c]) {
			s |= 1 << c
		}
	}
	if _, ok := p.hostAddrs[a]; ok && !s.has(classHostLoopback) {
		s |= 1 << classHostAddress
	}
	return s
}

// ruleOpens gives the classes rule r opens: those its prefix lies wholly inside,
// and host-address when it is exactly one of the host's addresses. Name rules
// open none (DNS rebinding), nor does anything open invalid.
func (p *Policy) ruleOpens(r Rule) classSet {
	var s classSet
	if !r.Prefix.IsValid() {
		return 0
	}
	for c := range numClasses {
		if c != classInvalid && prefixInside(r.Prefix, classPrefixes[c]) {
			s |= 1 << c
		}
	}
	if r.Prefix.IsSingleIP() {
		if _, ok := p.hostAddrs[r.Prefix.Addr()]; ok {
			s |= 1 << classHostAddress
		}
	}
	return s
}
