package doctor

import (
	"errors"
	"strings"
	"testing"
)

func TestHostView(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fakeHost)
		status Status
		detail string
		fix    string
	}{
		{"usable", func(f *fakeHost) {}, OK, "read-write; host root's files are root's inside", ""},
		{"root needs none", func(f *fakeHost) { f.h.UID = 0 }, OK, "not needed", ""},
		{"device missing", func(f *fakeHost) { f.remove("dev/fuse") }, Warn, "missing; without it, host root's files show as nobody", "sudo modprobe fuse && sudo chmod 0666 DEV/fuse"},
		{"device denied", func(f *fakeHost) { f.denied[f.path("dev/fuse")] = true }, Warn, "not read-write", "sudo chmod 0666 DEV/fuse"},
		{"kernel refuses", func(f *fakeHost) { f.probes["fuse"] = errors.New("mount fuse: operation not permitted") }, Warn, "FUSE mount in a user namespace failed: mount fuse: operation not permitted", "Linux 4.18+"},
		{"no user namespace", func(f *fakeHost) { f.probes["userns"] = errors.New("clone: EPERM") }, Warn, "not probed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost(t)
			tt.setup(f)
			c := f.check("fuse-host-view")
			fix := strings.ReplaceAll(tt.fix, "DEV", f.h.Dev)
			if c.Status != tt.status || !strings.Contains(c.Detail, tt.detail) || !strings.Contains(c.Fix, fix) || (fix == "" && c.Fix != "") {
				t.Errorf("got %s %q fix %q; want %s with %q, fix %q", c.Status, c.Detail, c.Fix, tt.status, tt.detail, fix)
			}
		})
	}
}
