package policy

import (
	"net"
	"net/netip"
	"testing"
)

func TestHostAddresses(t *testing.T) {
	got, err := HostAddresses()
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[netip.Addr]bool)
	for _, a := range got {
		if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
			t.Errorf("address %s is not in plain form", a)
		}
		if seen[a] {
			t.Errorf("address %s listed twice", a)
		}
		seen[a] = true
	}
	// Loopback must be among them: that is what makes a host's 127.0.0.1
	// recognisable however the caller spells it.
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback == 0 {
			continue
		}
		as, err := ifc.Addrs()
		if err != nil {
			t.Fatal(err)
		}
		for _, ia := range as {
			n, ok := ia.(*net.IPNet)
			if !ok {
				continue
			}
			a, _ := netip.AddrFromSlice(n.IP)
			if a = a.Unmap(); !seen[a] {
				t.Errorf("loopback address %s of %s missing from %v", a, ifc.Name, got)
			}
		}
	}
}
