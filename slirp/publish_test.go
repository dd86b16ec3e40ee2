package slirp

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/sbx-sandbox/sbx/slirp/policy"
	"github.com/sbx-sandbox/sbx/slirp/tap"
)

func TestParsePublish(t *testing.T) {
	good := map[string]string{
		"8080:80":             "tcp 127.0.0.1:8080 80",
		"8080:80/tcp":         "tcp 127.0.0.1:8080 80",
		"5353:53/udp":         "udp 127.0.0.1:5353 53",
		"0.0.0.0:8080:80":     "tcp 0.0.0.0:8080 80",
		"[::1]:8080:80/tcp":   "tcp [::1]:8080 80",
		"127.0.0.2:9000:9000": "tcp 127.0.0.2:9000 9000",
	}
	for in, want := range good {
		p, err := ParsePublish(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := p.Proto + " " + p.Host.String() + " " + itoa(int(p.Port)); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"", "80", "80/tcp", "a:80", "8080:80/sctp", "0:80", "8080:0", "70000:80", "8080:99999", "1.2.3:8080:80", "127.0.0.1:8080:10.0.2.100:80", "x:y:z"} {
		_, err := ParsePublish(in)
		if err == nil || !strings.Contains(err.Error(), `--publish "`+in+`"`) {
			t.Errorf("%q: err = %v, want one naming it", in, err)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A port in use is refused when the run starts, naming it.
func TestListenPortInUse(t *testing.T) {
	ln := listenLoopback(t)
	p, err := ParsePublish(ln.Addr().String() + ":80")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(p); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("err = %v, want already in use", err)
	}
}

// A host connection to a published port reaches the sandbox's server on
// its port, from the gateway's address.
func TestPublishTCP(t *testing.T) {
	// Port 0: a free host port, which only a test may ask for.
	pub, err := Listen(PublishSpec{Text: "test", Proto: "tcp", Host: netip.MustParseAddrPort("127.0.0.1:0"), Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	tn := newTestNet(t, policy.Options{}, Config{Publish: []*Published{pub}})
	ln, err := gonet.ListenTCP(tn.sandbox, tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4Slice(tap.SandboxIP), Port: 8080}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	from := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		from <- c.RemoteAddr().String()
		io.Copy(c, c)
		c.Close()
	}()
	c, err := net.Dial("tcp", pub.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello" {
		t.Fatalf("published echo: %q, %v", got, err)
	}
	if f := <-from; !strings.HasPrefix(f, tap.GatewayIP.String()+":") {
		t.Errorf("inside, the connection came from %s, want the gateway", f)
	}
}

// UDP publishing: each host client gets its own flow, replies return.
func TestPublishUDP(t *testing.T) {
	pub, err := Listen(PublishSpec{Text: "test", Proto: "udp", Host: netip.MustParseAddrPort("127.0.0.1:0"), Port: 5353})
	if err != nil {
		t.Fatal(err)
	}
	tn := newTestNet(t, policy.Options{}, Config{Publish: []*Published{pub}})
	inside, err := gonet.DialUDP(tn.sandbox, &tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4Slice(tap.SandboxIP), Port: 5353}, nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := inside.ReadFrom(buf)
			if err != nil {
				return
			}
			inside.WriteTo(append([]byte("re:"), buf[:n]...), from)
		}
	}()
	c, err := net.Dial("udp", pub.pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("q"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "re:q" {
		t.Fatalf("published UDP: %q, %v", buf[:n], err)
	}
}
