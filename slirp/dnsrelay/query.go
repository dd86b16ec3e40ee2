package dnsrelay

import (
	"errors"
	"fmt"

	"golang.org/x/net/dns/dnsmessage"
)

// ErrNotQuery is returned for a message that is a response, not a query: it
// is dropped, as answering responses could make two resolvers loop.
var ErrNotQuery = errors.New("dnsrelay: message is a response, not a query")

// maxMessage is the most a DNS message can hold: TCP frames it with a 16-bit
// length, so anything longer did not come from a DNS client.
const maxMessage = 65535

// query is what Exchange learnt from the sandbox's message.
type query struct {
	raw    []byte
	header dnsmessage.Header
	// verdict is the rcode to answer locally before any policy check
	// (FORMERR, NOTIMP), or RCodeSuccess when the query is well formed.
	verdict dnsmessage.RCode
	// question is set when the first question parsed; it is the only one
	// when verdict is RCodeSuccess.
	question    *dnsmessage.Question
	edns        bool // the query carries an OPT record
	name        string
	nameIsValid bool
}

// parseQuery reads the whole message so that nothing malformed is relayed,
// and sorts out the queries that are answered without asking the policy.
func parseQuery(raw []byte) (*query, error) {
	if len(raw) > maxMessage {
		return nil, fmt.Errorf("dnsrelay: message of %d bytes is over %d", len(raw), maxMessage)
	}
	var p dnsmessage.Parser
	h, err := p.Start(raw)
	if err != nil {
		return nil, fmt.Errorf("dnsrelay: %w", err)
	}
	if h.Response {
		return nil, ErrNotQuery
	}
	q := &query{raw: raw, header: h}
	// The question count is not exposed by the parser; the first two
	// questions tell zero, one and more apart.
	first, err := p.Question()
	switch {
	case err == dnsmessage.ErrSectionDone:
		q.verdict = dnsmessage.RCodeFormatError
	case err != nil && h.OpCode == 0:
		return nil, fmt.Errorf("dnsrelay: question: %w", err)
	case err == nil:
		q.question = &first
		q.name, q.nameIsValid = nameString(first.Name)
	}
	if h.OpCode != 0 {
		// Only QUERY is relayed: NOTIFY, UPDATE and the rest would let the
		// sandbox talk to the host's resolver about more than names.
		q.verdict = dnsmessage.RCodeNotImplemented
		return q, nil
	}
	if q.verdict != dnsmessage.RCodeSuccess {
		return q, nil
	}
	if _, err := p.Question(); err != dnsmessage.ErrSectionDone {
		if err != nil {
			return nil, fmt.Errorf("dnsrelay: question: %w", err)
		}
		// Servers disagree on what several questions mean; none answers them.
		q.verdict = dnsmessage.RCodeFormatError
		return q, nil
	}
	if err := p.SkipAllAnswers(); err != nil {
		return nil, fmt.Errorf("dnsrelay: answers: %w", err)
	}
	if err := p.SkipAllAuthorities(); err != nil {
		return nil, fmt.Errorf("dnsrelay: authorities: %w", err)
	}
	for {
		rh, err := p.AdditionalHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dnsrelay: additionals: %w", err)
		}
		if rh.Type == dnsmessage.TypeOPT {
			q.edns = true
		}
		if err := p.SkipAdditional(); err != nil {
			return nil, fmt.Errorf("dnsrelay: additionals: %w", err)
		}
	}
	return q, nil
}
