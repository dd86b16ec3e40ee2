package slirp

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/internal/fdlimit"
	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// Under a small limit on open descriptors the network takes its shares of
// it for TCP connections and UDP flows, each with a host socket, rather
// than counts that fit only a generous limit.
func TestSlotsShareTheDescriptorLimit(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(len(fds) + 2000)
	if limit >= rl.Cur {
		t.Fatalf("the limit is %d already, below the %d this test sets", rl.Cur, limit)
	}
	small := rl
	small.Cur = limit
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &small); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	tn := newTestNet(t, policy.Options{}, Config{})
	if got, want := cap(tn.net.tcpSlots), int(limit/64*fdlimit.NetTCP); got != want {
		t.Errorf("TCP connections: %d, want their share of the limit, %d", got, want)
	}
	if got, want := cap(tn.net.udpSlots), int(max(limit/64*fdlimit.NetUDP, 16)); got != want {
		t.Errorf("UDP flows: %d, want their share of the limit, %d", got, want)
	}
}
