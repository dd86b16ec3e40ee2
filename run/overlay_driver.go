package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
)

// preferFuseOverlayfs makes the fallback the choice, so tests exercise it on
// hosts that do not need it.
var preferFuseOverlayfs = false

// driverCache remembers, per kernel, whether kernel overlayfs and FUSE work
// in a user namespace: finding out costs a probe process, too slow for
// every run.
type driverCache struct {
	Kernel      string `json:"kernel"`
	KernelWorks *bool  `json:"kernel_overlay_in_userns,omitempty"`
	FUSEWorks   *bool  `json:"fuse_in_userns,omitempty"`
}

// avoidHostFS makes a run take the view it would have without /dev/fuse, so
// tests exercise that fallback on hosts that have it.
var avoidHostFS = false

// overlayDriver picks kernel overlayfs when it works in a user namespace
// (Linux 5.11+, unless the distribution turned it off) or fuse-overlayfs;
// with neither, copy-on-write is impossible and the run stops rather than
// show the host read-write. For a caller other than root, the kernel overlay
// goes over sbx's own FUSE view of the host where /dev/fuse allows it: host
// root's files are then root's inside, and writes work at every depth.
// Without it, warn is the one line that says what fails and the fix.
func overlayDriver(s *spec.Spec, base string) (driver, fuseOverlayfs, warn string, err error) {
	if s.Rootfs == spec.RootfsRO {
		// The same kernel overlays, read-only; where the kernel refuses
		// them, read-only binds of the host's directories.
		if kernelOverlayWorks(base) {
			return rootfs.DriverKernel, "", "", nil
		}
		return rootfs.DriverBinds, "", "", nil
	}
	if !preferFuseOverlayfs && kernelOverlayWorks(base) {
		if os.Getuid() == 0 {
			// Host root maps to root inside: the kernel overlay alone
			// shows every owner right.
			return rootfs.DriverKernel, "", "", nil
		}
		if why := hostFSUnusable(base); why != "" {
			return rootfs.DriverKernel, "", "warning: " + why + ": writes below root-owned host directories (/usr/local, /etc/..., /var/lib/...) will fail; fix: sudo chmod 0666 /dev/fuse (stock distributions ship it so)", nil
		}
		return rootfs.DriverHostFS, "", "", nil
	}
	if p, err := lookSystemPath("fuse-overlayfs"); err == nil && unix.Access("/dev/fuse", unix.R_OK|unix.W_OK) == nil {
		return rootfs.DriverFuse, p, "", nil
	}
	return "", "", "", errors.New("a copy-on-write host view needs overlayfs in a user namespace (Linux 5.11+) or fuse-overlayfs; fix: sudo apt install fuse-overlayfs && sudo chmod 0666 /dev/fuse, or run with --rootfs ro")
}

func kernelOverlayWorks(base string) bool {
	return probed(base, func(c *driverCache) *bool {
		if c.KernelWorks == nil {
			ok := doctor.KernelAtLeast(doctor.KernelRelease(), 5, 11) && doctor.RunProbe("overlay") == nil
			c.KernelWorks = &ok
		}
		return c.KernelWorks
	})
}

// fuseWorks reports whether this kernel mounts FUSE in a user namespace.
func fuseWorks(base string) bool {
	return probed(base, func(c *driverCache) *bool {
		if c.FUSEWorks == nil {
			ok := doctor.RunProbe("fuse") == nil
			c.FUSEWorks = &ok
		}
		return c.FUSEWorks
	})
}

// probed reads this kernel's cache, lets answer fill in what it lacks and
// writes it back when it changed.
func probed(base string, answer func(*driverCache) *bool) bool {
	release := doctor.KernelRelease()
	path := filepath.Join(base, "overlay-driver.json")
	var c driverCache
	if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, &c) != nil || c.Kernel != release {
		c = driverCache{Kernel: release}
	}
	before := c
	ok := answer(&c)
	if c != before {
		if b, err := json.Marshal(c); err == nil {
			tmp := path + ".tmp"
			if os.WriteFile(tmp, b, 0o600) == nil {
				os.Rename(tmp, path)
			}
		}
	}
	return *ok
}

// hostFSUnusable says why the FUSE view cannot be served, or "".
func hostFSUnusable(base string) string {
	if avoidHostFS {
		return "the FUSE view of the host is turned off"
	}
	if err := unix.Access("/dev/fuse", unix.R_OK|unix.W_OK); err != nil {
		return fmt.Sprintf("/dev/fuse is not usable (%v)", err)
	}
	if !fuseWorks(base) {
		return "this kernel does not mount FUSE in a user namespace (see sbx doctor)"
	}
	return ""
}
