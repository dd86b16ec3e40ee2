package slirp

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/sbx-sandbox/sbx/slirp/policy"
	"github.com/sbx-sandbox/sbx/slirp/tap"
)

// A server that closes first (HTTP/1.0) leaves sbx's side in TIME-WAIT.
// The sandbox's next connection from the same port must be answered at
// once, as the sandbox's kernel, which closed second, may reuse the port
// straight away.
func TestTCPPortReuseAfterServerClose(t *testing.T) {
	ln := listenLoopback(t)
	go acceptAndClose(ln)
	tn := newTestNet(t, policy.Options{}, Config{})
	tn.dialer.route["tcp 203.0.113.30:80"] = ln.Addr().String()
	local := tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4Slice(tap.SandboxIP), Port: 40000}
	remote := tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFromSlice(netip.MustParseAddr("203.0.113.30").AsSlice()), Port: 80}
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
		c, err := gonet.DialTCPWithBind(ctx, tn.sandbox, local, remote, ipv4.ProtocolNumber)
		cancel()
		if err != nil {
			t.Fatalf("connection %d from port %d: %v", i+1, local.Port, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(c); err != nil || string(b) != "bye" {
			t.Fatalf("connection %d: %q, %v", i+1, b, err)
		}
		c.Close()
		waitFor(t, func() bool { return tn.log.Summary().ConnectionsAllowed == int64(i+1) })
	}
}

// acceptAndClose says "bye" and closes each connection first.
func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("bye"))
		c.Close()
	}
}
