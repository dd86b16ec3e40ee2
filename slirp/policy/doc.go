// Package policy decides whether the sandbox may open a connection or ask a
// DNS question. The sandbox's network is a gVisor netstack in sbx's parent
// process that re-originates every connection from a host socket, so each
// destination the command reaches is one the host itself dials: the policy
// is what stands between hostile code and the host's loopback services, the
// cloud metadata endpoint and the private network the host sits on.
//
// Addresses are judged as the host sees them. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is unmapped first and a zone is dropped, so that no
// spelling of an address escapes the checks made on its plain form.
//
// Some destinations are denied whatever the rules say, unless a rule names
// them specifically. They fall into classes, checked in this order, and a
// denial names the first class the address is in that nothing opened:
//
//	metadata       169.254.169.254, fd00:ec2::254, 168.63.129.16
//	host-loopback  127.0.0.0/8, ::1
//	link-local     169.254.0.0/16, fe80::/10
//	private        10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
//	               100.64.0.0/10 (CGNAT), fc00::/7 (ULA)
//	host-address   the host's own addresses, loopback aside (Options.HostAddrs)
//	invalid        0.0.0.0/8, ::, 224.0.0.0/4, ff00::/8, 255.255.255.255;
//	               also port 0 and networks other than "tcp" and "udp"
//
// An address can be in more than one class (169.254.169.254 is link-local
// too; a host's 192.168.1.5 is private too) and is allowed only when one rule
// opens all of them. A rule opens a class when its prefix lies wholly inside
// it: 10.0.0.0/8 or 10.1.2.3:5432 opens private, 127.0.0.1:8080 opens
// host-loopback, 169.254.169.254 opens metadata. The host-address class is
// opened only by a rule for that exact address, so that a rule for the LAN
// does not also open every service the host listens on. A broad rule such as
// 0.0.0.0/0 or ::/0 opens no class, and nothing opens invalid.
// --allow-host-loopback opens host-loopback alone.
//
// Without rules, every other destination is allowed (Verdict.Rule
// "default"), and so is every DNS question. With rules (--allow-net), a
// destination is allowed only when a rule matches its address and port
// (a rule without a port matches any), the first such rule in the order given
// naming the verdict; anything else is "no-rule". An IP or CIDR rule matches
// by prefix containment.
//
// A name rule (example.com, *.example.com) matches a destination through the
// built-in DNS: when a question for a name the rule matches is answered, the
// caller reports the addresses with Learn, and connections to those addresses
// are then allowed on the rule's port. A wildcard matches names strictly
// below its domain, never the domain itself. A name rule never opens a
// denied class: a name that resolves to a private, loopback or metadata
// address stays denied, which is what defeats DNS rebinding; the verdict
// still names the class, and Verdict.Name says which name led there. With
// rules, a question is answered only for names a name rule matches, and
// reverse lookups (in-addr.arpa, ip6.arpa) are refused, because their names
// reach whoever owns an address block and would carry data out.
//
// Learned addresses last for the run but the table is bounded (maxLearned
// pairs of address and name, maxNamesPerAddr names for one address, the
// oldest leaving first), so a command that floods the resolver cannot grow
// sbx's memory without end. Without rules Learn still records names, so the
// connection log can say which name a connection was for.
//
// The package does no I/O apart from HostAddresses; a Policy is safe for
// concurrent use.
package policy
