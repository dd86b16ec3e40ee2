package slirp

import (
	"encoding/json"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/sbx-sandbox/sbx/slirp/dnsrelay"
	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// Event is one line of --net-log: a connection (tcp, udp; "in" for a
// published port) or a DNS question (dns).
type Event struct {
	Time  time.Time `json:"time"`
	Proto string    `json:"proto"`
	// Direction is "out" for what the sandbox opened, "in" for what
	// came through --publish.
	Direction string `json:"direction"`
	// Dst and Port are the destination as the host sees it (the gateway
	// 10.0.2.2 is 127.0.0.1); for a DNS question, the resolver asked.
	Dst     string `json:"dst,omitempty"`
	Port    uint16 `json:"port,omitempty"`
	Name    string `json:"name,omitempty"`
	Verdict string `json:"verdict"` // allow or deny
	Rule    string `json:"rule"`
	// Error says why an allowed connection failed on the host side.
	Error      string  `json:"error,omitempty"`
	BytesOut   int64   `json:"bytes_out"`
	BytesIn    int64   `json:"bytes_in"`
	DurationMS float64 `json:"duration_ms"`
	// DNS only: the question's type, the answer's code, the addresses.
	Type    string   `json:"type,omitempty"`
	Rcode   string   `json:"rcode,omitempty"`
	Answers []string `json:"answers,omitempty"`
}

func (e *Event) setDestination(host netip.AddrPort, v policy.Verdict) {
	e.Direction = "out"
	e.Dst, e.Port = host.Addr().String(), host.Port()
	e.Name, e.Rule = v.Name, v.Rule
	e.Verdict = "deny"
	if v.Allow {
		e.Verdict = "allow"
	}
}

// Summary is the network's part of the run record.
type Summary struct {
	Mode               string `json:"mode"`
	ConnectionsAllowed int64  `json:"connections_allowed"`
	ConnectionsDenied  int64  `json:"connections_denied"`
	DNSQuestions       int64  `json:"dns_questions"`
	DNSRefused         int64  `json:"dns_refused"`
	BytesOut           int64  `json:"bytes_out"`
	BytesIn            int64  `json:"bytes_in"`
	// LogErrors counts lines --net-log could not write.
	LogErrors int64 `json:"log_errors,omitempty"`
}

// Log writes events as JSON lines and keeps the summary. A nil *Log
// counts nothing and writes nothing.
type Log struct {
	mu  sync.Mutex
	w   io.Writer
	enc *json.Encoder
	sum Summary
}

// NewLog writes to w, or only counts when w is nil.
func NewLog(w io.Writer) *Log {
	l := &Log{w: w, sum: Summary{Mode: "slirp"}}
	if w != nil {
		l.enc = json.NewEncoder(w)
	}
	return l
}

// Summary is what was counted so far.
func (l *Log) Summary() Summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sum
}

// connection records a connection or flow once it has ended (or was
// refused). allowed counts as the policy decided, even if the host side
// then failed.
func (l *Log) connection(ev Event, allowed bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if allowed {
		l.sum.ConnectionsAllowed++
	} else {
		l.sum.ConnectionsDenied++
	}
	l.sum.BytesOut += ev.BytesOut
	l.sum.BytesIn += ev.BytesIn
	l.write(ev)
}

// dns records one DNS question.
func (l *Log) dns(e dnsrelay.Entry) {
	if l == nil {
		return
	}
	ev := Event{
		Time: e.Time, Proto: "dns", Direction: "out", Name: e.Name, Rule: e.Rule,
		Type: e.Type, Rcode: e.Rcode, DurationMS: float64(e.Duration.Microseconds()) / 1000,
		Verdict: "deny",
	}
	if e.Allow {
		ev.Verdict = "allow"
	}
	if up, err := netip.ParseAddrPort(e.Upstream); err == nil {
		ev.Dst, ev.Port = up.Addr().String(), up.Port()
	}
	for _, a := range e.Answers {
		ev.Answers = append(ev.Answers, a.String())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sum.DNSQuestions++
	if !e.Allow {
		l.sum.DNSRefused++
	}
	l.write(ev)
}

// write must be called with l.mu held.
func (l *Log) write(ev Event) {
	if l.enc == nil {
		return
	}
	if err := l.enc.Encode(ev); err != nil {
		l.sum.LogErrors++
	}
}
