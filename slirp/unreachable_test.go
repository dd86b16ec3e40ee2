package slirp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// closedUDPPort is an address on 127.0.0.1 where nothing listens: the
// host's kernel answers a datagram there with ICMP port unreachable.
func closedUDPPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// A datagram that finds no listener on the host is answered to the
// sandbox with ICMP port unreachable from the address it sent to, quoting
// its socket's addresses and ports (a Linux socket, connected, then fails
// with ECONNREFUSED: net_slirp_udp_dns.txtar), and the flow goes on: the
// next datagram is answered the same way.
func TestUDPRefusedOnTheHostIsPortUnreachable(t *testing.T) {
	var logged syncBuffer
	tn := newTestNet(t, policy.Options{}, Config{Log: NewLog(&logged)})
	tn.dialer.route["udp 203.0.113.30:9999"] = closedUDPPort(t)
	c := tn.dialUDP("203.0.113.30:9999")
	defer c.Close()
	local := c.LocalAddr().(*net.UDPAddr)
	got := tn.sandbox.Stats().ICMP.V4.PacketsReceived.DstUnreachable
	for i := 1; i <= 2; i++ {
		_, err := c.Write([]byte("anyone there?"))
		if err != nil && i > 1 && strings.Contains(err.Error(), "refused") {
			// The first datagram's error, reported on this send, as
			// Linux does too; this one was not sent.
			_, err = c.Write([]byte("anyone there?"))
		}
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return got.Value() == uint64(i) })
	}
	var icmps int
	for _, f := range tn.received() {
		ip := header.IPv4(f)
		if ip.Protocol() != uint8(header.ICMPv4ProtocolNumber) {
			continue
		}
		icmps++
		icmp := header.ICMPv4(ip.Payload())
		quoted := header.IPv4(icmp.Payload())
		udp := header.UDP(quoted[quoted.HeaderLength():])
		if icmp.Type() != header.ICMPv4DstUnreachable || icmp.Code() != header.ICMPv4PortUnreachable ||
			ip.SourceAddress().String() != "203.0.113.30" || ip.DestinationAddress().String() != local.IP.String() ||
			quoted.SourceAddress().String() != local.IP.String() || quoted.DestinationAddress().String() != "203.0.113.30" ||
			quoted.Protocol() != uint8(header.UDPProtocolNumber) ||
			int(udp.SourcePort()) != local.Port || udp.DestinationPort() != 9999 {
			t.Errorf("ICMP %d/%d from %s to %s quoting %s:%d → %s:%d; want port unreachable from 203.0.113.30 quoting %s → 203.0.113.30:9999",
				icmp.Type(), icmp.Code(), ip.SourceAddress(), ip.DestinationAddress(),
				quoted.SourceAddress(), udp.SourcePort(), quoted.DestinationAddress(), udp.DestinationPort(), local)
		}
	}
	if icmps != 2 {
		t.Errorf("%d ICMP messages to the sandbox, want 2", icmps)
	}
	if d := tn.dialer.dials(); len(d) != 1 {
		t.Errorf("dialled %q, want one flow", d)
	}
	// The flow's line in the log, written when it ends, says why.
	c.Close()
	tn.net.Close()
	waitFor(t, func() bool { return strings.Contains(logged.String(), `"proto":"udp"`) })
	if line := logged.String(); !strings.Contains(line, `"error":"read: connection refused"`) {
		t.Errorf("log %q: want the UDP flow with its error", line)
	}
}

// syncBuffer is a bytes.Buffer for a log written from other goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A host dial that finds no route is reported to the sandbox as host or
// network unreachable, quoting the SYN with its own sequence number (a
// Linux kernel ignores an error whose quote is outside its window), and
// is not reset.
func TestTCPUnreachableOnTheHostIsICMP(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		code  header.ICMPv4Code
		want  string
	}{
		{syscall.EHOSTUNREACH, header.ICMPv4HostUnreachable, "no route to host"},
		{syscall.ENETUNREACH, header.ICMPv4NetUnreachable, "network is unreachable"},
	} {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			dial := func(ctx context.Context, network, address string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", tc.errno)}
			}
			tn := newTestNet(t, policy.Options{}, Config{Dial: dial})
			_, err := tn.dialTCP("203.0.113.40:443")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("dial = %v, want %q", err, tc.want)
			}
			var syn header.TCP
			for _, f := range tn.sent() {
				ip := header.IPv4(f)
				if ip.Protocol() == uint8(header.TCPProtocolNumber) {
					if tcp := header.TCP(ip.Payload()); tcp.Flags() == header.TCPFlagSyn {
						syn = tcp
					}
				}
			}
			var icmp header.ICMPv4
			for _, f := range tn.received() {
				ip := header.IPv4(f)
				switch ip.Protocol() {
				case uint8(header.ICMPv4ProtocolNumber):
					icmp = header.ICMPv4(ip.Payload())
				case uint8(header.TCPProtocolNumber):
					if header.TCP(ip.Payload()).Flags().Contains(header.TCPFlagRst) {
						t.Error("the sandbox got a reset")
					}
				}
			}
			if syn == nil || icmp == nil {
				t.Fatalf("no SYN (%v) or no ICMP (%v) on the wire", syn != nil, icmp != nil)
			}
			if icmp.Type() != header.ICMPv4DstUnreachable || icmp.Code() != tc.code {
				t.Fatalf("ICMP type %d code %d, want %d %d", icmp.Type(), icmp.Code(), header.ICMPv4DstUnreachable, tc.code)
			}
			quoted := header.IPv4(icmp.Payload())
			qtcp := header.TCP(quoted[quoted.HeaderLength():])
			if qtcp.SequenceNumber() != syn.SequenceNumber() || qtcp.SourcePort() != syn.SourcePort() || qtcp.DestinationPort() != 443 {
				t.Fatalf("quoted seq %d ports %d→%d, want the SYN's %d %d→443",
					qtcp.SequenceNumber(), qtcp.SourcePort(), qtcp.DestinationPort(), syn.SequenceNumber(), syn.SourcePort())
			}
		})
	}
}

// A refused host dial is still a reset, as from a host that refuses.
func TestTCPRefusedOnTheHostIsReset(t *testing.T) {
	tn := newTestNet(t, policy.Options{}, Config{})
	_, err := tn.dialTCP("203.0.113.41:443")
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("dial = %v, want connection refused", err)
	}
}

func TestUnreachableCode(t *testing.T) {
	wrap := func(e syscall.Errno) error { return &net.OpError{Op: "read", Err: os.NewSyscallError("read", e)} }
	for _, tc := range []struct {
		err  error
		code header.ICMPv4Code
		ok   bool
	}{
		{wrap(syscall.ECONNREFUSED), header.ICMPv4PortUnreachable, true},
		{wrap(syscall.EHOSTUNREACH), header.ICMPv4HostUnreachable, true},
		{wrap(syscall.ENETUNREACH), header.ICMPv4NetUnreachable, true},
		{wrap(syscall.ETIMEDOUT), 0, false},
		{errors.New("connection refused"), 0, false},
	} {
		code, ok := unreachableCode(tc.err)
		if code != tc.code || ok != tc.ok {
			t.Errorf("unreachableCode(%v) = %d, %v; want %d, %v", tc.err, code, ok, tc.code, tc.ok)
		}
	}
}
