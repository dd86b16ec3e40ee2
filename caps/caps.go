// Package caps names Linux capabilities and resolves the set the command
// runs with: Docker's default, changed by --cap-add and --cap-drop.
package caps

import (
	"fmt"
	"math/bits"
	"strings"
)

// Set is a set of capabilities, bit n for capability n.
type Set uint64

// names are capabilities(7)'s, indexed by number.
var names = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// Capability numbers sbx itself reasons about.
const (
	SysPtrace         = 19
	SysAdmin          = 21
	CheckpointRestore = 40 // the highest of Linux 5.9
)

// dockerDefault is Docker's default capability set (moby's
// oci/caps.DefaultCapabilities): what a build step needs as root (own
// files of any id, bind low ports, chroot, setuid), and nothing that
// reaches mounts, other processes' memory or the kernel.
var dockerDefault = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Default is Docker's default set.
func Default() Set {
	var s Set
	for _, n := range dockerDefault {
		c, _ := number(n)
		s |= 1 << c
	}
	return s
}

// All is every capability up to lastCap, the highest this kernel knows.
func All(lastCap int) Set {
	if lastCap >= 63 {
		return ^Set(0)
	}
	return Set(1)<<(lastCap+1) - 1
}

// Has reports whether c is in the set.
func (s Set) Has(c int) bool { return c >= 0 && c < 64 && s&(1<<c) != 0 }

// Names lists the set's capabilities by number, as capabilities(7) names
// them ("CAP_12" for one sbx has no name for).
func (s Set) Names() []string {
	out := []string{}
	for v := uint64(s); v != 0; v &= v - 1 {
		c := bits.TrailingZeros64(v)
		if c < len(names) {
			out = append(out, names[c])
		} else {
			out = append(out, fmt.Sprintf("CAP_%d", c))
		}
	}
	return out
}

// number parses one name: "CAP_CHOWN", "chown" or "cap_chown".
func number(name string) (int, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	for c, known := range names {
		if known == n {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q (names as in capabilities(7), with or without CAP_, or ALL)", name)
}

// Resolve applies --cap-add and --cap-drop to Docker's default, as Docker
// does: --cap-drop ALL starts from nothing (then adds), --cap-add ALL from
// every capability (then drops), otherwise the default plus the adds minus
// the drops. lastCap is the highest capability the kernel knows; a name
// above it is refused rather than silently meaningless.
func Resolve(add, drop []string, lastCap int) (Set, error) {
	addSet, addAll, err := parseList(add, lastCap)
	if err != nil {
		return 0, fmt.Errorf("--cap-add: %w", err)
	}
	dropSet, dropAll, err := parseList(drop, lastCap)
	if err != nil {
		return 0, fmt.Errorf("--cap-drop: %w", err)
	}
	switch {
	case dropAll:
		if addAll {
			return All(lastCap), nil
		}
		return addSet, nil
	case addAll:
		return All(lastCap) &^ dropSet, nil
	default:
		return (Default()&All(lastCap) | addSet) &^ dropSet, nil
	}
}

func parseList(list []string, lastCap int) (s Set, all bool, err error) {
	for _, name := range list {
		if strings.EqualFold(strings.TrimSpace(name), "ALL") {
			all = true
			continue
		}
		c, err := number(name)
		if err != nil {
			return 0, false, err
		}
		if c > lastCap {
			return 0, false, fmt.Errorf("%s is not known to this kernel (its highest is %s)", names[c], names[lastCap])
		}
		s |= 1 << c
	}
	return s, all, nil
}
