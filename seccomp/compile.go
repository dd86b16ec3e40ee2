//go:build linux

package seccomp

import (
	"fmt"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Compile compiles the filter o asks for. A profile file that cannot be read
// or used is an error naming the file.
func Compile(o Options) (*Program, error) {
	switch o.Profile {
	case "unconfined":
		return &Program{Mode: ModeUnconfined}, nil
	case "", "default":
		rs, def, err := defaultRules(o)
		if err != nil {
			return nil, fmt.Errorf("seccomp default profile: %w", err)
		}
		return link(ModeDefault, "", rs, def)
	}
	rs, def, err := fileRules(o)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", o.Profile, err)
	}
	p, err := link(ModeFile, o.Profile, rs, def)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", o.Profile, err)
	}
	return p, nil
}

func link(mode Mode, source string, rs *ruleSet, def uint32) (*Program, error) {
	insts, err := rs.assemble(def)
	if err != nil {
		return nil, err
	}
	return &Program{Mode: mode, Source: source, Rules: len(rs.order), Filters: []Filter{insts}}, nil
}

// addProfile adds the rules of an evaluated OCI profile, in its order.
func (rs *ruleSet) addProfile(sc *specs.LinuxSeccomp) error {
	for _, s := range sc.Syscalls {
		act, err := action(s.Action, s.ErrnoRet)
		if err != nil {
			return fmt.Errorf("rule for %v: %w", s.Names, err)
		}
		sets, err := conditions(s.Args)
		if err != nil {
			return fmt.Errorf("rule for %v: %w", s.Names, err)
		}
		rs.addAll(s.Names, clause{action: act, sets: sets})
	}
	return nil
}

// ociSpec is the part of a runtime spec that moby's profile code reads: the
// bounding set its includes/excludes test ("CAP_SYS_ADMIN"; "sys_admin" is
// accepted too).
func ociSpec(caps []string) *specs.Spec {
	bounding := make([]string, len(caps))
	for i, c := range caps {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		bounding[i] = c
	}
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: bounding}}}
}
