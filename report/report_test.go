package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
)

func writeAndRead(t *testing.T, r Record) (map[string]any, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.json")
	if err := writeAt(path, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return m, string(b)
}

func TestWriteNulls(t *testing.T) {
	m, raw := writeAndRead(t, Record{ExitCode: 0, Cause: "exit", DurationMS: 12})
	want := map[string]any{
		"exit_code":         0.0,
		"cause":             "exit",
		"signal":            nil,
		"duration_ms":       12.0,
		"cpu_user_ms":       nil,
		"cpu_system_ms":     nil,
		"memory_peak_bytes": nil,
		"pids_peak":         nil,
		"protections":       nil,
		"limits":            nil,
		"net":               nil,
		"changes":           nil,
		"env_dropped":       nil,
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("record:\n got %v\nwant %v", m, want)
	}
	if raw[len(raw)-1] != '\n' || raw[:3] != "{\n " {
		t.Errorf("report is not indented JSON ending in a newline: %q", raw)
	}
}

func TestWriteValues(t *testing.T) {
	r := Record{
		ExitCode:        143,
		Cause:           "signal",
		Signal:          SignalName(15),
		DurationMS:      1500,
		CPUUserMS:       Int64(7),
		CPUSystemMS:     Int64(0),
		MemoryPeakBytes: Int64(1 << 20),
		Changes:         []rootfs.Change{{Path: "/etc/x", Kind: "added"}},
		Error:           "boom",
	}
	m, _ := writeAndRead(t, r)
	checks := map[string]any{
		"exit_code":         143.0,
		"signal":            "SIGTERM",
		"cpu_user_ms":       7.0,
		"cpu_system_ms":     0.0,
		"memory_peak_bytes": float64(1 << 20),
		"pids_peak":         nil,
		"changes":           []any{map[string]any{"path": "/etc/x", "kind": "added"}},
		"error":             "boom",
	}
	for k, want := range checks {
		if got, ok := m[k]; !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v (present %v), want %#v", k, got, ok, want)
		}
	}
	m, _ = writeAndRead(t, Record{Changes: []rootfs.Change{}})
	if got, ok := m["changes"].([]any); !ok || len(got) != 0 {
		t.Errorf("empty changes = %#v, want []", m["changes"])
	}
	if _, ok := m["error"]; ok {
		t.Error("error present although empty")
	}
}

func TestWriteFailsOnMissingDir(t *testing.T) {
	if err := writeAt(filepath.Join(t.TempDir(), "no", "run.json"), Record{}); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}

func TestSignalName(t *testing.T) {
	for n, want := range map[int]string{15: "SIGTERM", 9: "SIGKILL", 2: "SIGINT", 11: "SIGSEGV"} {
		got := SignalName(n)
		if got == nil || *got != want {
			t.Errorf("SignalName(%d) = %v, want %s", n, got, want)
		}
	}
	for _, n := range []int{0, 200} {
		if got := SignalName(n); got != nil {
			t.Errorf("SignalName(%d) = %q, want nil", n, *got)
		}
	}
	if p := Int64(5); p == nil || *p != 5 {
		t.Error("Int64(5)")
	}
}

func TestCreateRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "bashrc")
	if err := os.WriteFile(target, []byte("rc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "run.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err := Create(link); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		if f != nil {
			f.Close()
		}
		t.Errorf("Create through a symlink: %v, want a refusal", err)
	}
	if err := writeAt(link, Record{}); err == nil {
		t.Error("Write through a symlink succeeded")
	}
	if b, _ := os.ReadFile(target); string(b) != "rc\n" {
		t.Errorf("the symlink's target changed: %q", b)
	}
	// A dangling symlink is not created through either.
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "made"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dangling); err == nil {
		t.Error("Create through a dangling symlink succeeded")
	}
	if _, err := os.Lstat(filepath.Join(dir, "made")); !os.IsNotExist(err) {
		t.Errorf("the dangling symlink's target was created: %v", err)
	}
}

// The command replaces the report's name with a symlink to the user's
// ~/.bashrc while it runs; the record still goes to the file opened before.
func TestWriteAfterSwap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, []byte(strings.Repeat("old ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	moved := filepath.Join(dir, "moved.json")
	bashrc := filepath.Join(dir, "bashrc")
	if err := os.WriteFile(bashrc, []byte("rc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bashrc, path); err != nil {
		t.Fatal(err)
	}
	// The write goes to the original file, and the user is told that its
	// name no longer leads there.
	if err := f.Write(Record{ExitCode: 3, Cause: "exit"}); err == nil || !strings.Contains(err.Error(), "replaced during the run") {
		t.Errorf("Write after the swap: %v, want an error saying the name was replaced", err)
	}
	if b, _ := os.ReadFile(bashrc); string(b) != "rc\n" {
		t.Errorf("the symlink's target changed: %q", b)
	}
	b, err := os.ReadFile(moved)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["exit_code"] != 3.0 {
		t.Errorf("the original file holds %q (%v), want the record alone", b, err)
	}
}

func TestCreateFifoDoesNotBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := Create(path)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Create of a fifo: %v, want a refusal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Create of a fifo blocked")
	}
	// With a reader waiting, the open succeeds and fstat refuses it.
	r, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := Create(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Create of a fifo with a reader: %v, want a refusal", err)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(filepath.Join(dir, "no", "run.json")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Create in a missing directory: %v", err)
	}
	if _, err := Create(dir); err == nil {
		t.Error("Create of a directory succeeded")
	}
	if _, err := Create(dir + "/"); err == nil {
		t.Error("Create of a path ending in / succeeded")
	}
	if _, err := Create("/dev/null"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Create of a device: %v", err)
	}
	// A new file is created with mode 0644 and Write truncates.
	path := filepath.Join(dir, "new.json")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Write(Record{Error: strings.Repeat("x", 5000)}); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(Record{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("after two writes: %v\n%s", err, b)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&^0o022 != 0o644&^0o022 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
}

// writeAt creates the record's file and writes it, as a run does.
func writeAt(path string, r Record) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Write(r)
}
