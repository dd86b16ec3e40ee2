package dnsrelay

import (
	"golang.org/x/net/dns/dnsmessage"
)

// localUDPSize is the payload size advertised in the OPT record of local
// answers: the DNS flag day 2020 value, safe on any path.
const localUDPSize = 1232

// localAnswer builds an answer that never left sbx: same ID and opcode, RD
// copied, RA set (the sandbox sees a recursive resolver), the question echoed
// when it was well formed, and an OPT record when the query had one, as
// RFC 6891 asks of responders.
func localAnswer(q *query, rcode dnsmessage.RCode) []byte {
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{
		ID:                 q.header.ID,
		Response:           true,
		OpCode:             q.header.OpCode,
		RecursionDesired:   q.header.RecursionDesired,
		RecursionAvailable: true,
		CheckingDisabled:   q.header.CheckingDisabled,
		RCode:              rcode,
	})
	// A malformed query gets no echo: what would be echoed is the part that
	// was wrong. Names only reach here after dnsmessage parsed them, so
	// packing them again cannot fail; should it, the bare header still
	// answers.
	wellFormed := q.verdict == dnsmessage.RCodeSuccess
	if wellFormed && q.question != nil {
		if err := b.StartQuestions(); err != nil {
			return headerOnly(q, rcode)
		}
		if err := b.Question(*q.question); err != nil {
			return headerOnly(q, rcode)
		}
	}
	if wellFormed && q.edns {
		var rh dnsmessage.ResourceHeader
		if err := rh.SetEDNS0(localUDPSize, dnsmessage.RCodeSuccess, false); err != nil {
			return headerOnly(q, rcode)
		}
		if err := b.StartAdditionals(); err != nil {
			return headerOnly(q, rcode)
		}
		if err := b.OPTResource(rh, dnsmessage.OPTResource{}); err != nil {
			return headerOnly(q, rcode)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return headerOnly(q, rcode)
	}
	return msg
}

// headerOnly is the answer of last resort: twelve bytes that every client
// can parse.
func headerOnly(q *query, rcode dnsmessage.RCode) []byte {
	b := dnsmessage.NewBuilder(make([]byte, 0, 12), dnsmessage.Header{
		ID:                 q.header.ID,
		Response:           true,
		OpCode:             q.header.OpCode,
		RecursionDesired:   q.header.RecursionDesired,
		RecursionAvailable: true,
		RCode:              rcode,
	})
	msg, _ := b.Finish() // a header alone always packs
	return msg
}
