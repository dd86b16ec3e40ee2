package dnsrelay

import (
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// maxLearned bounds the addresses taken from one answer: real answers hold a
// handful, and a hostile upstream must not grow the policy's table by
// thousands per question.
const maxLearned = 64

// maxChain bounds the CNAME chain followed; resolvers give up far sooner.
const maxChain = 16

// learned is what an upstream answer tells the relay.
type learned struct {
	rcode dnsmessage.RCode // with the EDNS extended bits
	names []string         // the question name, then each CNAME target in order
	addrs []netip.Addr
}

// learn reads an upstream answer for qname. Addresses count only when their
// owner is on the CNAME chain that starts at qname: anything else in the
// answer section is unasked-for and could be a poisoning attempt. Parsing
// stops at the first malformed record; what came before it is kept.
func learn(ans []byte, qname string) learned {
	var p dnsmessage.Parser
	h, err := p.Start(ans)
	if err != nil {
		return learned{rcode: dnsmessage.RCodeServerFailure}
	}
	l := learned{rcode: h.RCode}
	if err := p.SkipAllQuestions(); err != nil {
		return l
	}
	cnames := map[string]string{}
	addrs := map[string][]netip.Addr{}
	answersDone := false
	for {
		rh, err := p.AnswerHeader()
		if err != nil {
			answersDone = err == dnsmessage.ErrSectionDone
			break
		}
		owner := ownerName(rh.Name)
		switch {
		case rh.Class != dnsmessage.ClassINET:
			err = p.SkipAnswer()
		case rh.Type == dnsmessage.TypeCNAME:
			var c dnsmessage.CNAMEResource
			if c, err = p.CNAMEResource(); err == nil {
				if _, seen := cnames[owner]; !seen {
					cnames[owner] = ownerName(c.CNAME)
				}
			}
		case rh.Type == dnsmessage.TypeA:
			var a dnsmessage.AResource
			if a, err = p.AResource(); err == nil {
				addrs[owner] = append(addrs[owner], netip.AddrFrom4(a.A))
			}
		case rh.Type == dnsmessage.TypeAAAA:
			var a dnsmessage.AAAAResource
			if a, err = p.AAAAResource(); err == nil {
				addrs[owner] = append(addrs[owner], netip.AddrFrom16(a.AAAA))
			}
		default:
			err = p.SkipAnswer()
		}
		if err != nil {
			break
		}
	}

	onChain := map[string]bool{}
	for name := qname; len(l.names) < maxChain && !onChain[name]; {
		onChain[name] = true
		l.names = append(l.names, name)
		next, ok := cnames[name]
		if !ok {
			break
		}
		name = next
	}
	seen := map[netip.Addr]bool{}
	for _, name := range l.names {
		for _, a := range addrs[name] {
			if !seen[a] && len(l.addrs) < maxLearned {
				seen[a] = true
				l.addrs = append(l.addrs, a)
			}
		}
	}

	if answersDone {
		l.rcode = extendedRCode(&p, h.RCode)
	}
	return l
}

// extendedRCode adds the upper rcode bits an OPT record carries (BADVERS,
// BADCOOKIE), so the log shows what the resolver meant.
func extendedRCode(p *dnsmessage.Parser, rcode dnsmessage.RCode) dnsmessage.RCode {
	if err := p.SkipAllAuthorities(); err != nil {
		return rcode
	}
	for {
		rh, err := p.AdditionalHeader()
		if err != nil {
			return rcode
		}
		if rh.Type == dnsmessage.TypeOPT {
			return rh.ExtendedRCode(rcode)
		}
		if err := p.SkipAdditional(); err != nil {
			return rcode
		}
	}
}

func ownerName(n dnsmessage.Name) string {
	return strings.TrimSuffix(strings.ToLower(n.String()), ".")
}
