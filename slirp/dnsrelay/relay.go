package dnsrelay

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Policy decides questions and learns answers.
type Policy interface {
	// Question says whether name may be resolved, and by which rule.
	// name is lower-case, without the trailing dot; the root is "".
	Question(name string) (allow bool, rule string)
	// Learn records that name resolved to addrs, so that connections to
	// them can be allowed by name. It is called for the question name and
	// for each CNAME target on the chain from it.
	Learn(name string, addrs []netip.Addr)
}

// Rules reported in Entry.Rule for answers that the policy did not decide.
const (
	RuleNoPolicy    = "no policy"            // Relay.Policy is nil: every name is refused
	RuleInvalidName = "invalid name"         // a label holds a byte outside printable ASCII
	RuleFormErr     = "not one question"     // FORMERR: zero or several questions
	RuleNotQuery    = "not a standard query" // NOTIMP: an opcode other than QUERY
)

// Entry is one DNS question, for the connection log and the report.
type Entry struct {
	Time     time.Time
	Proto    string // "udp" or "tcp"
	Name     string // the policy's form; odd bytes as \DDD; "" when none parsed
	Type     string // "A", "AAAA", "TXT", ..., "TYPEnnn" for unnamed types
	Allow    bool
	Rule     string
	Rcode    string       // of the answer given to the sandbox: "NOERROR", "NXDOMAIN", "REFUSED", "SERVFAIL", ...
	Answers  []netip.Addr // A/AAAA addresses learned
	Upstream string       // the resolver that answered, "" when answered locally
	Duration time.Duration
}

// Relay answers the sandbox's DNS messages. Set its fields before the first
// Exchange and do not change them after; Exchange is safe for concurrent use.
type Relay struct {
	Upstreams []netip.AddrPort // tried in order
	Policy    Policy
	Timeout   time.Duration // per upstream try; default 2s
	// Dial opens the connection to an upstream ("udp" or "tcp"); default a
	// net.Dialer. Tests inject one.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	Log  func(Entry) // called once per answered message; may be nil
	// MaxInFlight bounds the queries being relayed at once; default 256.
	// Beyond it a query is answered SERVFAIL at once: a flood from inside
	// must not grow sbx's memory or sockets without end.
	MaxInFlight int

	inFlight atomic.Int64
}

const (
	defaultTimeout     = 2 * time.Second
	defaultMaxInFlight = 256
)

func (r *Relay) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return defaultTimeout
}

func (r *Relay) maxInFlight() int64 {
	if r.MaxInFlight > 0 {
		return int64(r.MaxInFlight)
	}
	return defaultMaxInFlight
}

func (r *Relay) dial() func(ctx context.Context, network, address string) (net.Conn, error) {
	if r.Dial != nil {
		return r.Dial
	}
	var d net.Dialer
	return d.DialContext
}

// Exchange answers one message from the sandbox: a UDP datagram, or one
// TCP-framed message without its length prefix. A parseable query always
// gets an answer: REFUSED, built locally, when the question is refused;
// SERVFAIL when no upstream answered; else the upstream's raw answer with the
// sandbox's ID. A message that is not a query, or cannot be parsed, returns
// an error and no answer: the caller drops it.
func (r *Relay) Exchange(ctx context.Context, query []byte, proto string) ([]byte, error) {
	if proto != "udp" && proto != "tcp" {
		return nil, fmt.Errorf("dnsrelay: unknown protocol %q", proto)
	}
	start := time.Now()
	q, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	e := Entry{Time: start, Proto: proto, Name: q.name}
	if q.question != nil {
		e.Type = typeString(q.question.Type)
	}
	ans := r.answer(ctx, q, proto, &e)
	e.Duration = time.Since(start)
	if r.Log != nil {
		r.Log(e)
	}
	return ans, nil
}

// answer decides how q is answered and fills in e accordingly.
func (r *Relay) answer(ctx context.Context, q *query, proto string, e *Entry) []byte {
	local := func(rcode dnsmessage.RCode) []byte {
		e.Rcode = rcodeString(rcode)
		return localAnswer(q, rcode)
	}
	switch {
	case q.verdict == dnsmessage.RCodeNotImplemented:
		e.Rule = RuleNotQuery
		return local(q.verdict)
	case q.verdict != dnsmessage.RCodeSuccess:
		e.Rule = RuleFormErr
		return local(q.verdict)
	case !q.nameIsValid:
		e.Rule = RuleInvalidName
		return local(dnsmessage.RCodeRefused)
	case r.Policy == nil:
		e.Rule = RuleNoPolicy
		return local(dnsmessage.RCodeRefused)
	}
	e.Allow, e.Rule = r.Policy.Question(q.name)
	if !e.Allow {
		return local(dnsmessage.RCodeRefused)
	}

	// Refused names are answered above without a slot, so a flood of them
	// costs nothing; only relayed queries hold sockets and buffers.
	if r.inFlight.Add(1) > r.maxInFlight() {
		r.inFlight.Add(-1)
		return local(dnsmessage.RCodeServerFailure)
	}
	ans, up, err := r.forward(ctx, q, proto)
	r.inFlight.Add(-1)
	if err != nil {
		return local(dnsmessage.RCodeServerFailure)
	}

	l := learn(ans, q.name)
	e.Rcode = rcodeString(l.rcode)
	e.Upstream = up.String()
	if len(l.addrs) > 0 {
		e.Answers = l.addrs
		for _, name := range l.names {
			// Each call gets its own slice: the policy may keep it.
			r.Policy.Learn(name, slices.Clone(l.addrs))
		}
	}
	return ans
}
