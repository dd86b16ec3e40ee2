package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveTreeRenameRace removes a tree while another goroutine keeps
// swapping one of its directories for a symlink to a canary directory
// outside, and back: whatever the interleaving, the canary survives, and
// the removal finishes or fails without touching it.
func TestRemoveTreeRenameRace(t *testing.T) {
	canary := t.TempDir()
	must(t, os.WriteFile(filepath.Join(canary, "keep"), []byte("mine"), 0o644))
	for round := 0; round < 30; round++ {
		base := t.TempDir()
		tree := filepath.Join(base, "tree")
		sub := filepath.Join(tree, "a", "sub")
		must(t, os.MkdirAll(filepath.Join(sub, "deeper"), 0o755))
		for i := 0; i < 50; i++ {
			must(t, os.WriteFile(filepath.Join(sub, "deeper", "f"+string(rune('a'+i%26))+string(rune('a'+i/26))), nil, 0o644))
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			aside := filepath.Join(base, "aside")
			for {
				select {
				case <-stop:
					return
				default:
				}
				if os.Rename(sub, aside) == nil {
					os.Symlink(canary, sub)
					os.Remove(sub)
					os.Rename(aside, sub)
				}
			}
		}()
		RemoveTree(tree)
		close(stop)
		<-done
		if b, err := os.ReadFile(filepath.Join(canary, "keep")); err != nil || string(b) != "mine" {
			t.Fatalf("round %d: the canary outside was touched: %q %v", round, b, err)
		}
	}
}
