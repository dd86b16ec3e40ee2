package fdlimit

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestShare(t *testing.T) {
	for _, tc := range []struct {
		limit, most, part, least, want int64
	}{
		{524288, 16384, ViewDirs, 16, 16384}, // a generous limit keeps the part's bound
		{20000, 16384, ViewDirs, 16, 14976},
		{4096, 4096, NetTCP, 64, 512},
		{1024, 4096, NetTCP, 64, 128},
		{256, 4096, NetTCP, 64, 64}, // a tiny limit still leaves the part something
		{1024, 0, ViewDirs, 16, 0},  // a part bounded to nothing stays so
	} {
		if got := share(tc.limit, tc.most, tc.part, tc.least); got != tc.want {
			t.Errorf("share(%d, %d, %d, %d) = %d, want %d", tc.limit, tc.most, tc.part, tc.least, got, tc.want)
		}
	}
}

// The parts fit in the limit together, with room for the rest.
func TestPartsLeaveRoom(t *testing.T) {
	if sum := ViewDirs + ViewListings + NetTCP + NetUDP; sum > 60 {
		t.Fatalf("the parts take %d of 64", sum)
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
