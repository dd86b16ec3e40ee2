// Package tap makes the sandbox's network device: a TAP in the sandbox's own
// network namespace, addressed and routed through netlink, whose descriptor
// the child hands to sbx's parent, where the user-space stack serves it.
// It runs in the child (PID 1, before pivot_root) and links no stack.
package tap

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Layout is the sandbox's side of the network: its device, its address and
// the gateway its default route goes through.
type Layout struct {
	Name    string
	Addr    *net.IPNet // e.g. 10.0.2.100/24
	Gateway net.IP     // 10.0.2.2
	MTU     int
	// Addr6 and Gateway6, when set, give the device an IPv6 address and a
	// default route too.
	Addr6    *net.IPNet
	Gateway6 net.IP
}

// ErrNoTun is wrapped when /dev/net/tun cannot be opened: the run stops
// with the fix, it never goes on without the network it asked for.
var ErrNoTun = errors.New("/dev/net/tun")

// Create opens /dev/net/tun (the host's, reached before pivot_root), makes
// the TAP in the calling process's network namespace and configures it. It
// returns the device's descriptor, for the parent.
func Create(l Layout, tunPath string) (*os.File, error) {
	fd, err := unix.Open(tunPath, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot open %s (%v): --net slirp needs it read-write for you; a root user can run `chmod 0666 %s` (the mode stock distributions ship), or use --net none", ErrNoTun, tunPath, err, tunPath)
	}
	ifr, err := unix.NewIfreq(l.Name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	// IFF_NO_PI: frames only, no packet-information prefix; the stack reads
	// Ethernet frames as they are.
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("create the TAP %s: %w", l.Name, err)
	}
	// Persistent: closing the last descriptor then leaves the device to
	// the kernel's clean-up of the sandbox's network namespace, which runs
	// in the background, instead of unregistering it in close(2), which
	// waits for an RCU grace period (about 20 ms) at the end of every run.
	// The device cannot outlive the namespace it lives in.
	if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("keep the TAP %s: %w", l.Name, err)
	}
	f := os.NewFile(uintptr(fd), tunPath)
	if err := configure(l); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// configure sets the device's MTU, address and routes, and brings it up.
func configure(l Layout) error {
	link, err := netlink.LinkByName(l.Name)
	if err != nil {
		return fmt.Errorf("find %s: %w", l.Name, err)
	}
	if err := netlink.LinkSetMTU(link, l.MTU); err != nil {
		return fmt.Errorf("set %s's MTU to %d: %w", l.Name, l.MTU, err)
	}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: l.Addr}); err != nil {
		return fmt.Errorf("address %s: %w", l.Name, err)
	}
	if l.Addr6 != nil {
		// No duplicate address detection: nothing else is on this link,
		// and DAD would hold the address back for a second.
		if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: l.Addr6, Flags: unix.IFA_F_NODAD}); err != nil {
			return fmt.Errorf("address %s (IPv6): %w", l.Name, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", l.Name, err)
	}
	if err := netlink.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: l.Gateway}); err != nil {
		return fmt.Errorf("default route via %s: %w", l.Gateway, err)
	}
	if l.Gateway6 != nil {
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: l.Gateway6}); err != nil {
			return fmt.Errorf("default IPv6 route via %s: %w", l.Gateway6, err)
		}
	}
	return nil
}
