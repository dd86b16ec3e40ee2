package run

import (
	"fmt"
	"os"

	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
)

// makePlan gathers what the planner needs from the host and builds the plan.
func makePlan(s *spec.Spec, state rootfs.StateDir, base, home string, git *gitGuard) (*rootfs.Plan, error) {
	if err := state.WriteFiles(s.Hostname); err != nil {
		return nil, err
	}
	mi, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	points, err := rootfs.ParseMountPoints(mi)
	mi.Close()
	if err != nil {
		return nil, err
	}
	driver, fuse, warn, err := overlayDriver(s, base)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		fmt.Fprintln(os.Stderr, "sbx:", warn)
	}
	avoid := []string{base}
	if s.Keep != "" {
		avoid = append(avoid, s.Keep)
	}
	in := rootfs.Inputs{
		Spec: s, Host: rootfs.OS{}, MountPoints: points, State: state,
		Avoid: avoid, Home: home, PasswdHome: rootfs.PasswdHome(), Driver: driver, FuseOverlayfs: fuse, Self: selfPath(),
	}
	if git != nil {
		in.Git = git.protect
	}
	plan, err := rootfs.Build(in)
	if err != nil {
		return nil, err
	}
	if err := state.MakeGitLayers(plan); err != nil {
		return nil, err
	}
	return plan, state.MakeLayers(plan)
}
