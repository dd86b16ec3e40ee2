package slirp

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/sbx-sandbox/sbx/slirp/policy"
	"github.com/sbx-sandbox/sbx/slirp/tap"
)

var (
	gatewayAddr = netip.AddrFrom4([4]byte(tap.GatewayIP))
	dnsAddr     = netip.AddrFrom4([4]byte(tap.DNSIP))
	subnet      = netip.PrefixFrom(netip.AddrFrom4([4]byte(tap.Subnet.IP.To4())), 24)
	hostLo      = netip.MustParseAddr("127.0.0.1")
)

// hostDestination is where a connection the sandbox opened to dst goes on
// the host. The gateway stands for the host's own loopback, as with
// slirp4netns; the policy then sees 127.0.0.1, what the host dials. Other
// addresses in the sandbox's subnet lead nowhere.
func hostDestination(dst netip.AddrPort) (netip.AddrPort, bool) {
	a := dst.Addr().Unmap()
	switch {
	case a == gatewayAddr:
		return netip.AddrPortFrom(hostLo, dst.Port()), true
	case subnet.Contains(a):
		return dst, false
	}
	return netip.AddrPortFrom(a, dst.Port()), true
}

// decide is the policy's verdict on a connection to dst (as the sandbox
// addressed it), and the host address to dial when allowed.
func (n *Network) decide(network string, dst netip.AddrPort) (netip.AddrPort, policy.Verdict) {
	host, ok := hostDestination(dst)
	if !ok {
		return dst, policy.Verdict{Rule: "sandbox-subnet"}
	}
	return host, n.cfg.Policy.Dial(network, host)
}

// addrPort converts the stack's address to the standard library's.
func addrPort(a tcpip.Address, port uint16) netip.AddrPort {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return netip.AddrPortFrom(ip.Unmap(), port)
}
