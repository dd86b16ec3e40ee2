package dnsrelay

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// dnsPort is where resolv.conf's nameservers listen: the file has no way to
// name another port.
const dnsPort = 53

// Upstreams returns the nameservers of a resolv.conf, in order, each on port
// 53, duplicates removed. Comments and lines that do not parse are skipped,
// as the C library skips them. A loopback stub such as 127.0.0.53 is kept:
// the relay runs in sbx's parent, in the host's network namespace, where the
// stub answers.
func Upstreams(resolvConf []byte) []netip.AddrPort {
	var ups []netip.AddrPort
	seen := map[netip.AddrPort]bool{}
	sc := bufio.NewScanner(bytes.NewReader(resolvConf))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line, _, _ = strings.Cut(line, ";")
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		addr, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		ap := netip.AddrPortFrom(addr, dnsPort)
		if !seen[ap] {
			seen[ap] = true
			ups = append(ups, ap)
		}
	}
	return ups
}

// ParseUpstream parses the value of --dns-upstream: an IP (port 53), IP:port,
// [IPv6]:port or [IPv6]; IPv6 may carry a zone. The error names the value.
func ParseUpstream(s string) (netip.AddrPort, error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(addr, dnsPort), nil
	}
	if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
		// [IPv6] alone: the brackets of the port form, without the port.
		addr, err := netip.ParseAddr(strings.TrimSuffix(inner, "]"))
		if err != nil || !addr.Is6() {
			return netip.AddrPort{}, fmt.Errorf("invalid DNS upstream %q: %q is not an IPv6 address", s, inner[:len(inner)-1])
		}
		return netip.AddrPortFrom(addr, dnsPort), nil
	}
	host, port, ok := splitHostPort(s)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("invalid DNS upstream %q: want IP, IP:port or [IPv6]:port", s)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("invalid DNS upstream %q: %q is not an IP address", s, host)
	}
	if addr.Is6() && !strings.HasPrefix(s, "[") {
		// "::1:53" is an address, not an address and a port.
		return netip.AddrPort{}, fmt.Errorf("invalid DNS upstream %q: write an IPv6 address with a port as [IPv6]:port", s)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return netip.AddrPort{}, fmt.Errorf("invalid DNS upstream %q: port %q is not 1-65535", s, port)
	}
	return netip.AddrPortFrom(addr, uint16(n)), nil
}

// splitHostPort splits at the last colon, removing the brackets around an
// IPv6 host. net.SplitHostPort would do, but it accepts service names.
func splitHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", false
		}
		host = host[1 : len(host)-1]
	} else if strings.ContainsAny(host, "[]") {
		return "", "", false
	}
	return host, port, true
}
