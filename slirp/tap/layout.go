package tap

import "net"

// The sandbox's network, as slirp4netns and Podman lay it out, so scripts
// written for them find the same addresses: the sandbox is 10.0.2.100, the
// gateway 10.0.2.2 stands for the host, DNS is 10.0.2.3.
var (
	SandboxIP = net.IPv4(10, 0, 2, 100).To4()
	GatewayIP = net.IPv4(10, 0, 2, 2).To4()
	DNSIP     = net.IPv4(10, 0, 2, 3).To4()
	Subnet    = &net.IPNet{IP: net.IPv4(10, 0, 2, 0).To4(), Mask: net.CIDRMask(24, 32)}
)

// MTU is the TAP's: at 65520 a user-space stack moves a segment per system
// call that at 1500 would take forty, the largest lever on throughput.
const MTU = 65520

// DeviceName is the TAP's name inside.
const DeviceName = "tap0"

// Default is the layout every --net slirp run gets.
func Default() Layout {
	return Layout{
		Name:    DeviceName,
		Addr:    &net.IPNet{IP: SandboxIP, Mask: Subnet.Mask},
		Gateway: GatewayIP,
		MTU:     MTU,
	}
}
