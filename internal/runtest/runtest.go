// Package runtest holds what the tests of whole runs share, in package
// main (through the command line) and in package run: a run started in a
// directory of its own with sbx's stderr captured, the record it wrote,
// and skips that fail a CI run.
package runtest

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/sbx-sandbox/sbx/report"
)

// In runs a run in this process with dir as the working directory, as a
// user would start sbx there, and returns its exit status.
func In(t testing.TB, dir string, run func() int) int {
	t.Helper()
	old, err := os.Getwd()
	Must(t, err)
	Must(t, os.Chdir(dir))
	defer os.Chdir(old)
	return run()
}

// Captured is In with sbx's own stderr captured.
func Captured(t testing.TB, dir string, run func() int) (int, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	Must(t, err)
	defer f.Close()
	old := os.Stderr
	os.Stderr = f
	code := In(t, dir, run)
	os.Stderr = old
	b, err := os.ReadFile(f.Name())
	Must(t, err)
	return code, string(b)
}

// ReadRecord reads the run record that --report wrote at path.
func ReadRecord(t testing.TB, path string) report.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	Must(t, err)
	var rec report.Record
	Must(t, json.Unmarshal(b, &rec))
	return rec
}

// Gap reports a test that cannot run here. In CI a gap fails the run.
func Gap(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI: %s", why)
	}
	t.Skip(why)
}

func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
