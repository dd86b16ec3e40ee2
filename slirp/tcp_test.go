package slirp

import (
	"crypto/rand"
	"crypto/sha256"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// An allowed connection reaches the host's side as the policy saw it,
// carries data both ways, and a half-close from inside reaches the server
// as an end of stream, whose reply still comes back.
func TestTCPAllowedRelayAndHalfClose(t *testing.T) {
	tn := newTestNet(t, policy.Options{}, Config{})
	tn.dialer.route["tcp 203.0.113.7:80"] = tcpEcho(t)
	c, err := tn.dialTCP("203.0.113.7:80")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	payload := make([]byte, 3<<20)
	rand.Read(payload)
	go func() {
		c.Write(payload)
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(payload) {
		t.Fatalf("echo: %d bytes back, want the %d sent", len(got), len(payload))
	}
	if d := tn.dialer.dials(); len(d) != 1 || d[0] != "tcp 203.0.113.7:80" {
		t.Errorf("dialled %q, want one tcp 203.0.113.7:80", d)
	}
	waitFor(t, func() bool { return tn.log.Summary().ConnectionsAllowed == 1 })
	if s := tn.log.Summary(); s.BytesOut != int64(len(payload)) || s.BytesIn != int64(len(payload)) {
		t.Errorf("summary %+v: want %d bytes each way", s, len(payload))
	}
}

// Denied destinations are reset at once and never dialled: every
// default-deny class, the sandbox's own subnet, and the gateway without
// --allow-host-loopback.
func TestTCPDeniedIsResetWithoutDial(t *testing.T) {
	tn := newTestNet(t, policy.Options{HostAddrs: nil}, Config{})
	for _, dst := range []string{
		"169.254.169.254:80", // metadata
		"168.63.129.16:80",   // Azure's
		"10.1.2.3:5432",      // private
		"192.168.1.1:80",     // private
		"100.64.0.1:80",      // CGNAT
		"10.0.2.2:8080",      // the host's loopback through the gateway
		"10.0.2.50:80",       // the sandbox's subnet
		"10.0.2.3:80",        // the DNS address, not its port 53
	} {
		start := time.Now()
		_, err := tn.dialTCP(dst)
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: err = %v, want connection refused", dst, err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: refused after %s, want at once", dst, el)
		}
	}
	if d := tn.dialer.dials(); len(d) != 0 {
		t.Errorf("dialled %q for denied destinations", d)
	}
	waitFor(t, func() bool { return tn.log.Summary().ConnectionsDenied == 8 })
}

// The gateway stands for the host's 127.0.0.1, only with
// --allow-host-loopback or a rule naming it.
func TestTCPGatewayIsHostLoopback(t *testing.T) {
	echo := tcpEcho(t)
	port := echo[strings.LastIndex(echo, ":")+1:]
	for _, opts := range []policy.Options{
		{AllowHostLoopback: true},
		{Rules: mustRules(t, "127.0.0.1:"+port)},
	} {
		tn := newTestNet(t, opts, Config{})
		tn.dialer.route["tcp 127.0.0.1:"+port] = echo
		c, err := tn.dialTCP("10.0.2.2:" + port)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		c.Write([]byte("ping"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Errorf("%+v: read %q, %v", opts, buf, err)
		}
		c.Close()
		if d := tn.dialer.dials(); len(d) != 1 || d[0] != "tcp 127.0.0.1:"+port {
			t.Errorf("%+v: dialled %q, want tcp 127.0.0.1:%s", opts, d, port)
		}
	}
}

// With rules, only what they allow is dialled.
func TestTCPRulesOnly(t *testing.T) {
	tn := newTestNet(t, policy.Options{Rules: mustRules(t, "203.0.113.0/24:443")}, Config{})
	tn.dialer.route["tcp 203.0.113.9:443"] = tcpEcho(t)
	if c, err := tn.dialTCP("203.0.113.9:443"); err != nil {
		t.Errorf("allowed by the rule: %v", err)
	} else {
		c.Close()
	}
	for _, dst := range []string{"203.0.113.9:80", "198.51.100.1:443"} {
		if _, err := tn.dialTCP(dst); err == nil {
			t.Errorf("%s: connected, want refused", dst)
		}
	}
	if d := tn.dialer.dials(); len(d) != 1 {
		t.Errorf("dialled %q, want only 203.0.113.9:443", d)
	}
}

// A host that refuses makes the sandbox's connection refused, not hang.
func TestTCPHostRefusalIsReset(t *testing.T) {
	tn := newTestNet(t, policy.Options{}, Config{})
	_, err := tn.dialTCP("203.0.113.8:81") // no route: the dialer refuses
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("err = %v, want connection refused", err)
	}
}

// A reset from the host side reaches the sandbox as a reset.
func TestTCPResetCrosses(t *testing.T) {
	ln := listenLoopback(t)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.(interface{ SetLinger(int) error }).SetLinger(0)
		buf := make([]byte, 1)
		c.Read(buf)
		c.Close() // RST
	}()
	tn := newTestNet(t, policy.Options{}, Config{})
	tn.dialer.route["tcp 203.0.113.10:80"] = ln.Addr().String()
	c, err := tn.dialTCP("203.0.113.10:80")
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("x"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	if err == nil || !strings.Contains(err.Error(), "reset") {
		t.Errorf("read after the host's reset: %v, want connection reset", err)
	}
}

func mustRules(t testing.TB, rules ...string) []policy.Rule {
	t.Helper()
	rs, err := policy.ParseRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
