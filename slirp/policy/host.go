package policy

import (
	"fmt"
	"net"
	"net/netip"
)

// HostAddresses lists the host's own interface addresses, loopback included,
// for Options.HostAddrs: a service listening on 0.0.0.0 is reachable through
// any of them, so each is as sensitive as loopback.
func HostAddresses() ([]netip.Addr, error) {
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("listing the host's addresses: %w", err)
	}
	seen := make(map[netip.Addr]bool)
	var addrs []netip.Addr
	for _, ia := range ifaddrs {
		var ip net.IP
		switch v := ia.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		default:
			continue
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if a = plain(a); !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	return addrs, nil
}
