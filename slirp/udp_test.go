package slirp

import (
	"strings"
	"testing"
	"time"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// An allowed UDP flow reaches its host socket and the replies come back.
func TestUDPAllowedEcho(t *testing.T) {
	tn := newTestNet(t, policy.Options{}, Config{})
	tn.dialer.route["udp 203.0.113.20:9999"] = udpEcho(t)
	c := tn.dialUDP("203.0.113.20:9999")
	defer c.Close()
	for _, msg := range []string{"one", "two", strings.Repeat("x", 60000)} {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, maxDatagram)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), n, err)
		}
	}
	if d := tn.dialer.dials(); len(d) != 1 {
		t.Errorf("dialled %q, want one flow", d)
	}
}

// A denied flow is never dialled, gets ICMP port unreachable, and is
// logged as denied.
func TestUDPDenied(t *testing.T) {
	tn := newTestNet(t, policy.Options{}, Config{})
	c := tn.dialUDP("169.254.169.254:53")
	defer c.Close()
	c.Write([]byte("x"))
	unreachable := tn.net.stack.Stats().ICMP.V4.PacketsSent.DstUnreachable
	waitFor(t, func() bool { return unreachable.Value() == 1 })
	// The sandbox's stack received it as what it is.
	got := tn.sandbox.Stats().ICMP.V4.PacketsReceived.DstUnreachable
	waitFor(t, func() bool { return got.Value() == 1 })
	if d := tn.dialer.dials(); len(d) != 0 {
		t.Errorf("dialled %q", d)
	}
	waitFor(t, func() bool { return tn.log.Summary().ConnectionsDenied == 1 })
}
