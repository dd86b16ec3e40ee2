package dnsrelay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// errMismatch marks a reply that is not the answer to the query sent.
var errMismatch = errors.New("dnsrelay: reply does not match the query")

// udpBufs holds 65535-byte read buffers: a UDP answer may be that large, and
// a buffer per exchange would cost 64 KiB of garbage per question.
var udpBufs = sync.Pool{New: func() any { b := make([]byte, maxMessage); return &b }}

// forward tries each upstream in turn, each for at most the relay's timeout,
// and returns the first answer that matches the query, with the sandbox's ID.
func (r *Relay) forward(ctx context.Context, q *query, proto string) ([]byte, netip.AddrPort, error) {
	err := errors.New("dnsrelay: no upstream resolver")
	for _, up := range r.Upstreams {
		if ctx.Err() != nil {
			return nil, netip.AddrPort{}, ctx.Err()
		}
		var ans []byte
		ans, err = r.try(ctx, q, proto, up)
		if err == nil {
			return ans, up, nil
		}
	}
	return nil, netip.AddrPort{}, err
}

// try runs one exchange with one upstream on a fresh connection. The query
// goes out under a random ID, not the sandbox's: a sandbox that picks
// predictable IDs must not make the relay easier to spoof from outside.
func (r *Relay) try(ctx context.Context, q *query, proto string, up netip.AddrPort) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	conn, err := r.dial()(ctx, proto, up.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return nil, err
		}
	}
	// A cancelled context wakes a blocked read at once rather than at the
	// deadline.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	id := uint16(rand.Uint32())
	out := make([]byte, len(q.raw))
	copy(out, q.raw)
	binary.BigEndian.PutUint16(out, id)

	var ans []byte
	if proto == "tcp" {
		ans, err = exchangeTCP(conn, out, id, q)
	} else {
		ans, err = exchangeUDP(conn, out, id, q)
	}
	if err != nil {
		return nil, fmt.Errorf("dnsrelay: %s %s: %w", proto, up, err)
	}
	binary.BigEndian.PutUint16(ans, q.header.ID)
	return ans, nil
}

// exchangeUDP sends the query once and reads until a reply matches: replies
// with another ID or question are forged or stale, and are skipped rather
// than ending the exchange, so a forger cannot turn its guess into SERVFAIL.
func exchangeUDP(conn net.Conn, out []byte, id uint16, q *query) ([]byte, error) {
	if _, err := conn.Write(out); err != nil {
		return nil, err
	}
	bp := udpBufs.Get().(*[]byte)
	defer udpBufs.Put(bp)
	buf := *bp
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		if matches(buf[:n], id, q) {
			return append([]byte(nil), buf[:n]...), nil
		}
	}
}

// exchangeTCP sends one length-prefixed query and reads one answer. The
// connection is ours alone, so a mismatch is a broken upstream, not a forger.
func exchangeTCP(conn net.Conn, out []byte, id uint16, q *query) ([]byte, error) {
	frame := make([]byte, 2+len(out))
	binary.BigEndian.PutUint16(frame, uint16(len(out)))
	copy(frame[2:], out)
	if _, err := conn.Write(frame); err != nil {
		return nil, err
	}
	var lenBuf [2]byte
	if _, err := io.ReadFull(conn, lenBuf[:]); err != nil {
		return nil, err
	}
	ans := make([]byte, binary.BigEndian.Uint16(lenBuf[:]))
	if _, err := io.ReadFull(conn, ans); err != nil {
		return nil, err
	}
	if !matches(ans, id, q) {
		return nil, errMismatch
	}
	return ans, nil
}

// matches reports whether msg answers the query sent under id: a response,
// same ID, same opcode, and the one question echoed (name compared without
// regard to case, as resolvers may not keep it).
func matches(msg []byte, id uint16, q *query) bool {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || !h.Response || h.ID != id || h.OpCode != q.header.OpCode {
		return false
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		return false
	}
	got, want := qs[0], q.question
	return got.Type == want.Type && got.Class == want.Class &&
		strings.EqualFold(got.Name.String(), want.Name.String())
}
