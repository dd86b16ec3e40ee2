package doctor

import (
	"errors"
	"strings"
	"testing"
)

func TestOverlayUserns(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fakeHost)
		status Status
		detail string // substring
		fix    string // substring; "" means no fix
	}{
		{"ok", func(f *fakeHost) {}, OK, "mounts overlayfs in a user namespace", ""},
		{"old kernel, fuse fallback", func(f *fakeHost) { f.h.KernelRelease = "5.10.0-28-amd64" },
			Warn, "kernel 5.10 < 5.11: no overlayfs in a user namespace; sbx falls back to fuse-overlayfs", ""},
		{"old kernel, no fuse-overlayfs", func(f *fakeHost) {
			f.h.KernelRelease = "5.10.0"
			delete(f.bins, "fuse-overlayfs")
		}, Fail, "unusable too", "sudo apt install fuse-overlayfs\nor: sbx run --rootfs ro"},
		{"old kernel, /dev/fuse denied", func(f *fakeHost) {
			f.h.KernelRelease = "5.4.0"
			f.denied[f.path("dev/fuse")] = true
		}, Fail, "unusable too", "sudo chmod 0666 " + "DEV/fuse"},
		{"probe fails", func(f *fakeHost) { f.probes["overlay"] = errors.New("mount overlay: invalid argument") },
			Warn, "failed: mount overlay: invalid argument", ""},
		{"probe fails, module not loaded", func(f *fakeHost) {
			f.write("proc/filesystems", "nodev\ttmpfs\n")
			f.probes["overlay"] = errors.New("mount overlay: no such device")
		}, Warn, "no such device", "sudo modprobe overlay"},
		// The probe loads the module on first mount, so it outranks the list.
		{"module not listed, probe ok", func(f *fakeHost) { f.write("proc/filesystems", "nodev\ttmpfs\n") }, OK, "", ""},
		{"module not listed, not probed", func(f *fakeHost) {
			f.write("proc/filesystems", "nodev\ttmpfs\n")
			f.h.Probe = nil
		}, Warn, "not in /proc/filesystems", "sudo modprobe overlay"},
		{"fedora", func(f *fakeHost) {
			f.h.KernelRelease = "5.10.0"
			delete(f.bins, "fuse-overlayfs")
			f.write("etc/os-release", "ID=fedora\n")
		}, Fail, "", "sudo dnf install fuse-overlayfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost(t)
			tt.setup(f)
			c := f.check("overlay-userns")
			fix := strings.ReplaceAll(tt.fix, "DEV", f.h.Dev)
			if c.Status != tt.status || !strings.Contains(c.Detail, tt.detail) ||
				(fix == "") != (c.Fix == "") || !strings.Contains(c.Fix, fix) {
				t.Errorf("got %s %q fix %q\nwant %s %q fix %q", c.Status, c.Detail, c.Fix, tt.status, tt.detail, fix)
			}
		})
	}
}

func TestDevices(t *testing.T) {
	tests := []struct {
		name, check string
		setup       func(f *fakeHost)
		status      Status
		fix         string
	}{
		{"fuse ok", "fuse-overlayfs", func(f *fakeHost) {}, OK, ""},
		{"fuse-overlayfs missing", "fuse-overlayfs", func(f *fakeHost) { delete(f.bins, "fuse-overlayfs") },
			Warn, "sudo apt install fuse-overlayfs"},
		{"/dev/fuse denied", "fuse-overlayfs", func(f *fakeHost) { f.denied[f.path("dev/fuse")] = true },
			Warn, "sudo chmod 0666 DEV/fuse"},
		{"/dev/fuse missing", "fuse-overlayfs", func(f *fakeHost) { f.remove("dev/fuse") },
			Warn, "sudo modprobe fuse && sudo chmod 0666 DEV/fuse"},
		{"both", "fuse-overlayfs", func(f *fakeHost) {
			delete(f.bins, "fuse-overlayfs")
			f.denied[f.path("dev/fuse")] = true
		}, Warn, "sudo apt install fuse-overlayfs\nsudo chmod 0666 DEV/fuse"},
		{"tun ok", "tun", func(f *fakeHost) {}, OK, ""},
		{"tun denied", "tun", func(f *fakeHost) { f.denied[f.path("dev/net/tun")] = true },
			Warn, "sudo chmod 0666 DEV/net/tun"},
		{"tun missing", "tun", func(f *fakeHost) { f.remove("dev/net") },
			Warn, "sudo modprobe tun && sudo chmod 0666 DEV/net/tun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost(t)
			tt.setup(f)
			c := f.check(tt.check)
			fix := strings.ReplaceAll(tt.fix, "DEV", f.h.Dev)
			if c.Status != tt.status || c.Fix != fix {
				t.Errorf("got %s %q fix %q, want %s fix %q", c.Status, c.Detail, c.Fix, tt.status, fix)
			}
		})
	}
}

func TestDeviceDetailNamesMode(t *testing.T) {
	f := newFakeHost(t)
	f.denied[f.path("dev/net/tun")] = true
	c := f.check("tun")
	if !strings.Contains(c.Detail, "not read-write for uid 1000 (mode 0644)") ||
		!strings.Contains(c.Detail, "--net slirp") {
		t.Errorf("detail %q", c.Detail)
	}
}

func TestOverlayWithoutUserns(t *testing.T) {
	f := newFakeHost(t)
	f.probes["userns"] = errors.New("clone: operation not permitted")
	c := f.check("overlay-userns")
	if c.Status != Warn || c.Detail != "not probed: no user namespace (see userns); sbx falls back to fuse-overlayfs" {
		t.Errorf("%+v", c)
	}
	if f.calls["overlay"] != 0 {
		t.Error("overlay probe ran without a user namespace")
	}
}
