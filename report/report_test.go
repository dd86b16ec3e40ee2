package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sbx-sandbox/sbx/rootfs"
)

func writeAndRead(t *testing.T, r Record) (map[string]any, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.json")
	if err := Write(path, r); err != nil {
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
		"limits":            nil,
		"net":               nil,
		"changes":           nil,
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
	if err := Write(filepath.Join(t.TempDir(), "no", "run.json"), Record{}); err == nil {
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
