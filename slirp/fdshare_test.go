package slirp

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// Under a small limit on open descriptors the network takes a quarter of
// it for TCP connections and a thirty-second for UDP flows, each with a
// host socket, rather than counts that fit only a generous limit.
func TestSlotsShareTheDescriptorLimit(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(len(fds) + 1000)
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
	if got, want := cap(tn.net.tcpSlots), int(limit/4); got != want {
		t.Errorf("TCP connections: %d, want a quarter of the limit, %d", got, want)
	}
	if got, want := cap(tn.net.udpSlots), int(limit/32); got != want {
		t.Errorf("UDP flows: %d, want a thirty-second of the limit, %d", got, want)
	}
}
