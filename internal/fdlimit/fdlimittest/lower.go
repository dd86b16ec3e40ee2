// Package fdlimittest lowers a test process's limit on open descriptors,
// to check the parts that share it out (package fdlimit).
package fdlimittest

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Lower sets the process's soft RLIMIT_NOFILE to the descriptors open now
// plus room, for the rest of the test, and returns the new limit. The test
// fails if the limit is that low already: it would not test a lowering.
func Lower(t testing.TB, room int) uint64 {
	t.Helper()
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	n := uint64(len(open) + room)
	if n >= rl.Cur {
		t.Fatalf("the limit is %d already, not above the %d this test sets", rl.Cur, n)
	}
	small := rl
	small.Cur = n
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &small); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &rl) })
	return n
}
