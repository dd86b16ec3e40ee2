package dnsrelay

import (
	"strconv"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// extraTypes names common types that dnsmessage has no constant for, so the
// connection log does not show bare numbers for everyday DNSSEC or CAA queries.
var extraTypes = map[dnsmessage.Type]string{
	35:  "NAPTR",
	43:  "DS",
	46:  "RRSIG",
	47:  "NSEC",
	48:  "DNSKEY",
	50:  "NSEC3",
	52:  "TLSA",
	257: "CAA",
}

// typeString gives a query type's mnemonic: dnsmessage's name without its
// "Type" prefix, or the RFC 3597 form TYPEnnn for types neither table knows.
func typeString(t dnsmessage.Type) string {
	if s, ok := extraTypes[t]; ok {
		return s
	}
	s := t.String()
	if rest, ok := strings.CutPrefix(s, "Type"); ok {
		return rest
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// rcodeNames are the IANA mnemonics that resolvers and dig print; dnsmessage's
// own names ("RCodeNameError") would read oddly in a log.
var rcodeNames = map[dnsmessage.RCode]string{
	0:  "NOERROR",
	1:  "FORMERR",
	2:  "SERVFAIL",
	3:  "NXDOMAIN",
	4:  "NOTIMP",
	5:  "REFUSED",
	6:  "YXDOMAIN",
	7:  "YXRRSET",
	8:  "NXRRSET",
	9:  "NOTAUTH",
	10: "NOTZONE",
	16: "BADVERS",
	23: "BADCOOKIE",
}

func rcodeString(r dnsmessage.RCode) string {
	if s, ok := rcodeNames[r]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// nameString turns a parsed name into the policy's form: lower-case, no
// trailing dot, the root as "". ok is false when a label holds a byte outside
// printable ASCII: no host name does, and such names would reach the policy
// and the log in a form that differs from what a resolver would look up.
// Labels cannot hold dots: dnsmessage rejects those while parsing.
func nameString(n dnsmessage.Name) (name string, ok bool) {
	raw := n.Data[:n.Length]
	ok = true
	for _, c := range raw {
		if c <= ' ' || c >= 0x7f {
			ok = false
			break
		}
	}
	if !ok {
		return escapeName(raw), false
	}
	return strings.TrimSuffix(strings.ToLower(string(raw)), "."), true
}

// escapeName writes a name with odd bytes as \DDD (the RFC 1035 master-file
// form), so a refused binary name still logs as readable text.
func escapeName(raw []byte) string {
	var b strings.Builder
	for _, c := range raw {
		if c <= ' ' || c >= 0x7f || c == '\\' {
			b.WriteByte('\\')
			s := strconv.Itoa(int(c))
			b.WriteString(strings.Repeat("0", 3-len(s)))
			b.WriteString(s)
			continue
		}
		b.WriteByte(c)
	}
	return strings.TrimSuffix(b.String(), ".")
}
