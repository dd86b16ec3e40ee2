package hostfs

import (
	"fmt"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/sbx-sandbox/sbx/internal/fdlimit"
	"github.com/sbx-sandbox/sbx/internal/fdlimit/fdlimittest"
)

// Under a small limit on open descriptors, the view keeps at most its share
// of it open for directories, and walks on past that by reopening: a fixed
// 16,384 exhausted a limit of a few thousand, and every open then failed.
func TestHeldDirsShareTheDescriptorLimit(t *testing.T) {
	const dirs = 300
	root := manyTree(t, dirs, dirs)
	limit := fdlimittest.Lower(t, 200)
	v := newTestFS(t, root, Config{})
	share := v.top.v.heldCap()
	if want := int64(limit) / 64 * fdlimit.ViewDirs; share != want {
		t.Fatalf("held directories may reach %d, want the view's share of the limit, %d", share, want)
	}
	for i := range dirs {
		d := v.mustLookup(rootID, fmt.Sprintf("d%03d", i))
		if names, _, st := v.readdirplus(d); st != fuse.OK || !contains(names, fmt.Sprintf("f%04d", i)) {
			t.Fatalf("listing d%03d: %q, %v", i, names, st)
		}
		if h := v.heldDirs(); h > share {
			t.Fatalf("after d%03d: %d directories held, share %d", i, h, share)
		}
	}
	if fds := openFDs(t); uint64(fds) >= limit {
		t.Fatalf("%d descriptors open under a limit of %d", fds, limit)
	}
}
