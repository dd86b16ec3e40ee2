package threads

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// threadCount is this process's thread count, from /proc/self/status.
func threadCount(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line")
	return 0
}

func TestHoldLeavesIdleThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	before := threadCount(t)
	Hold(6)
	if runtime.GOMAXPROCS(0) != 1 {
		t.Errorf("GOMAXPROCS %d, want 1", runtime.GOMAXPROCS(0))
	}
	// Each spare held a thread of its own at once (idle ones are taken
	// first), besides this goroutine's; and the runtime keeps them.
	if after := threadCount(t); after < 6+1 || after < before {
		t.Errorf("threads %d before Hold, %d after", before, after)
	}
}
