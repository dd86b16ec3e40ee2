package fdlimit

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestShare(t *testing.T) {
	for _, tc := range []struct {
		limit, most, div, least, want int64
	}{
		{524288, 16384, 2, 16, 16384}, // a generous limit keeps the part's bound
		{20000, 16384, 2, 16, 10000},
		{4096, 16384, 2, 16, 2048},
		{1024, 4096, 4, 64, 256},
		{40, 4096, 4, 64, 64}, // a tiny limit still leaves the part something
		{1024, 0, 2, 16, 0},   // a part bounded to nothing stays so
	} {
		if got := share(tc.limit, tc.most, tc.div, tc.least); got != tc.want {
			t.Errorf("share(%d, %d, %d, %d) = %d, want %d", tc.limit, tc.most, tc.div, tc.least, got, tc.want)
		}
	}
}

// Limit reads this process's own limit.
func TestLimitIsTheSoftLimit(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	want := int64(rl.Cur)
	if rl.Cur > 1<<30 {
		want = 1 << 30 // no limit: as good as one
	}
	if got := Limit(); got != want {
		t.Fatalf("Limit() = %d, want the soft limit %d", got, want)
	}
}
