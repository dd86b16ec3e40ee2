package slirp

import (
	"testing"

	"github.com/sbx-sandbox/sbx/internal/fdlimit"
	"github.com/sbx-sandbox/sbx/internal/fdlimit/fdlimittest"
	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// Under a small limit on open descriptors the network takes its shares of
// it for TCP connections and UDP flows, each with a host socket, rather
// than counts that fit only a generous limit.
func TestSlotsShareTheDescriptorLimit(t *testing.T) {
	limit := fdlimittest.Lower(t, 2000)
	tn := newTestNet(t, policy.Options{}, Config{})
	if got, want := cap(tn.net.tcpSlots), int(limit/64*fdlimit.NetTCP); got != want {
		t.Errorf("TCP connections: %d, want their share of the limit, %d", got, want)
	}
	if got, want := cap(tn.net.udpSlots), int(max(limit/64*fdlimit.NetUDP, 16)); got != want {
		t.Errorf("UDP flows: %d, want their share of the limit, %d", got, want)
	}
}
