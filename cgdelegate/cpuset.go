package cgdelegate

import (
	"fmt"
	"path/filepath"
	"strings"
)

// SetCpuset writes list (as ParseCPUList returns it) to cpuset.cpus and
// checks cpuset.cpus.effective. On cgroup v2 the kernel takes CPUs that
// the parent does not have, and when none of the list is left it gives the
// cgroup all of the parent's CPUs: the write succeeds and the sandbox runs
// anywhere. So the effective set must lie within the list; an effective
// set smaller than the list (CPUs offline or not delegated) still confines
// the sandbox and is accepted.
func SetCpuset(dir, list string) error {
	want, err := parseCPUSet(list)
	if err != nil {
		return fmt.Errorf("cpuset %w", err)
	}
	if err := writeFile(dir, "cpuset.cpus", list); err != nil {
		return err
	}
	eff, err := EffectiveCpus(dir)
	if err != nil {
		return err
	}
	got, err := parseCPUSet(eff)
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(dir, "cpuset.cpus.effective"), err)
	}
	for i := range got {
		if got[i]&^want[i] != 0 {
			return fmt.Errorf("cpuset.cpus is %s but the kernel gives the cgroup CPUs %s (%s): "+
				"the CPUs asked for are not all available in the parent cgroup", list, eff, dir)
		}
	}
	return nil
}

// EffectiveCpus reads cpuset.cpus.effective: the CPUs the cgroup may run
// on, in the kernel's list form ("0-3,5").
func EffectiveCpus(dir string) (string, error) {
	s, err := readFile(dir, "cpuset.cpus.effective")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}
