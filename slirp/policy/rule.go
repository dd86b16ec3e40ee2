package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Rule is one --allow-net rule: host[:port], CIDR[:port] or *.domain[:port].
type Rule struct {
	Text     string       // as written by the user
	Prefix   netip.Prefix // IP and CIDR rules (an IP is a /32 or /128); invalid for name rules
	Domain   string       // name rules: lower-case, no trailing dot ("example.com")
	Wildcard bool         // "*.example.com": any name below the domain (a.example.com, a.b.example.com), not the domain itself
	Port     uint16       // 0: any port
}

// ParseRule parses one --allow-net value. The accepted forms are
//
//	1.2.3.4  1.2.3.4:443  2001:db8::1  [2001:db8::1]:443
//	10.0.0.0/8  10.0.0.0/8:443  fd00::/8  [fd00::/8]:443
//	proxy.golang.org  proxy.golang.org:443  *.npmjs.org  *.npmjs.org:443
//
// An IPv6 rule with a port needs brackets, since "2001:db8::1:443" is itself
// an address. Errors name the rule as the user wrote it.
func ParseRule(s string) (Rule, error) {
	r, err := parseRule(s)
	if err != nil {
		return Rule{}, fmt.Errorf("--allow-net %q: %w", s, err)
	}
	r.Text = s
	return r, nil
}

// ParseRules parses every rule and reports every bad one at once, so a user
// fixing a long command line does not have to go round once per mistake.
func ParseRules(ss []string) ([]Rule, error) {
	rules := make([]Rule, 0, len(ss))
	var errs []error
	for _, s := range ss {
		r, err := ParseRule(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

func parseRule(s string) (Rule, error) {
	if s == "" {
		return Rule{}, errors.New("empty rule")
	}
	if strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
		return Rule{}, errors.New("contains a space or a control character")
	}
	if s[0] == '[' {
		return parseBracketed(s)
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return parseCIDRRule(s, i)
	}
	if a, err := netip.ParseAddr(s); err == nil {
		p, err := addrPrefix(a)
		return Rule{Prefix: p}, err
	}
	if strings.Count(s, ":") > 1 {
		return Rule{}, errors.New("not a valid IPv6 address (an IPv6 rule with a port is written [2001:db8::1]:443)")
	}
	host, port, err := splitPort(s)
	if err != nil {
		return Rule{}, err
	}
	if host == "" {
		return Rule{}, errors.New("missing the host before the port")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		p, err := addrPrefix(a)
		return Rule{Prefix: p, Port: port}, err
	}
	domain, wildcard, err := parseDomain(host)
	if err != nil {
		return Rule{}, err
	}
	return Rule{Domain: domain, Wildcard: wildcard, Port: port}, nil
}

// parseBracketed parses "[addr]", "[addr]:port", "[prefix]" and
// "[prefix]:port". Brackets are for IPv6 only: an IPv4 rule never needs them
// and accepting them would give one rule two spellings.
func parseBracketed(s string) (Rule, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return Rule{}, errors.New("missing ] after the IPv6 address")
	}
	inner, rest := s[1:end], s[end+1:]
	var port uint16
	if rest != "" {
		if rest[0] != ':' {
			return Rule{}, fmt.Errorf("unexpected %q after ]: a port is written [2001:db8::1]:443", rest)
		}
		p, err := parsePort(rest[1:])
		if err != nil {
			return Rule{}, err
		}
		port = p
	}
	if inner == "" {
		return Rule{}, errors.New("empty brackets")
	}
	if !strings.Contains(inner, ":") {
		return Rule{}, fmt.Errorf("brackets are for IPv6 only: write %s:port", inner)
	}
	var p netip.Prefix
	var err error
	if i := strings.IndexByte(inner, '/'); i >= 0 {
		p, err = parsePrefix(inner[:i], inner[i+1:])
	} else if a, perr := netip.ParseAddr(inner); perr != nil {
		err = fmt.Errorf("%q is not a valid IPv6 address", inner)
	} else {
		p, err = addrPrefix(a)
	}
	if err != nil {
		return Rule{}, err
	}
	return Rule{Prefix: p, Port: port}, nil
}

// parseCIDRRule parses "prefix" and, for IPv4, "prefix:port"; slash is the
// index of the '/'.
func parseCIDRRule(s string, slash int) (Rule, error) {
	addr, bits := s[:slash], s[slash+1:]
	var port uint16
	if i := strings.IndexByte(bits, ':'); i >= 0 {
		if strings.Contains(addr, ":") {
			return Rule{}, fmt.Errorf("an IPv6 rule with a port needs brackets: [%s/%s]%s", addr, bits[:i], bits[i:])
		}
		p, err := parsePort(bits[i+1:])
		if err != nil {
			return Rule{}, err
		}
		bits, port = bits[:i], p
	}
	p, err := parsePrefix(addr, bits)
	if err != nil {
		return Rule{}, err
	}
	return Rule{Prefix: p, Port: port}, nil
}

// parsePrefix parses a CIDR from its address and length. It refuses host
// bits: "10.0.0.1/8" is either a typo for the network or for the one
// address, and guessing which would widen or narrow what the user allowed.
func parsePrefix(addr, bits string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad CIDR: %q is not an IP address", addr)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad CIDR: a zone (%%%s) has no meaning here", a.Zone())
	}
	if !isDigits(bits) {
		return netip.Prefix{}, fmt.Errorf("bad CIDR: prefix length %q is not a number", bits)
	}
	n, err := strconv.Atoi(bits)
	if err != nil || n > a.BitLen() {
		return netip.Prefix{}, fmt.Errorf("bad CIDR: prefix length %s is more than %d", bits, a.BitLen())
	}
	p := netip.PrefixFrom(a, n)
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("bad CIDR: %s has host bits set; did you mean %s (the network) or %s (one address)?", p, m, a)
	}
	return unmapPrefix(p)
}

// addrPrefix turns a single address into its /32 or /128.
func addrPrefix(a netip.Addr) (netip.Prefix, error) {
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("a zone (%%%s) has no meaning here", a.Zone())
	}
	return unmapPrefix(netip.PrefixFrom(a, a.BitLen()))
}

// unmapPrefix rewrites an IPv4-mapped prefix as IPv4, because destinations
// are unmapped before matching and a mapped rule would otherwise never match.
// It also refuses rules that could only ever name invalid destinations,
// which nothing opens: such a rule is a mistake, and silence would hide it.
func unmapPrefix(p netip.Prefix) (netip.Prefix, error) {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if prefixInside(p, invalidPrefixes) {
		return netip.Prefix{}, fmt.Errorf("%s is never a destination (unspecified, multicast and broadcast addresses are always denied)", p)
	}
	return p, nil
}

// splitPort splits "host:port" at its only colon; without one the port is 0.
func splitPort(s string) (string, uint16, error) {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return s, 0, nil
	}
	port, err := parsePort(s[i+1:])
	return s[:i], port, err
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("empty port after ':'")
	}
	if !isDigits(s) {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > 65535 {
		return 0, fmt.Errorf("port %s is out of range (1-65535)", s)
	}
	if n == 0 {
		return 0, errors.New("port 0 is not a port; leave it out to allow any port")
	}
	return uint16(n), nil
}

// normalized is the rule as the matcher wants it, for rules built by hand
// rather than parsed: a masked, unmapped prefix and a folded domain.
func (r Rule) normalized() Rule {
	if r.Prefix.IsValid() {
		p := r.Prefix.Masked()
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		r.Prefix = p
	}
	r.Domain = foldName(r.Domain)
	return r
}

// isDigits reports whether s is a non-empty run of ASCII digits; strconv
// alone would also take signs, and "+443" is no way to write a port.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
