// Package dnsrelay answers the sandbox's DNS questions: it checks each name
// against the egress policy, answers refused names itself so that nothing
// leaves the host through DNS for them, relays allowed queries byte for byte
// to the host's resolvers (AAAA, EDNS and TTLs survive), and teaches the
// policy which addresses the allowed names resolved to.
package dnsrelay
