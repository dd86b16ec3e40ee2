package gitprotect

import (
	"os"
	"testing"
)

// gap skips a test that cannot run here, and fails it under CI=true, where
// .ci/run provides what it needs (git; root, which CI runs the unit tests
// as; a file system with user xattrs).
func gap(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI: %s", why)
	}
	t.Skip(why)
}
