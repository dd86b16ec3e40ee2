package cgdelegate

import (
	"strings"
	"testing"
)

func TestSetCpuset(t *testing.T) {
	// The test's file does not follow the write; the kernel's would.
	dir := cgroupDir(t, map[string]string{"cpuset.cpus.effective": "0-3,5\n"})
	noErr(t, SetCpuset(dir, "0-3,5"))
	if got := readBack(t, dir, "cpuset.cpus"); got != "0-3,5" {
		t.Errorf("cpuset.cpus holds %q", got)
	}
	// Fewer CPUs than asked (one is offline) still confine the sandbox.
	dir = cgroupDir(t, map[string]string{"cpuset.cpus.effective": "0-2\n"})
	noErr(t, SetCpuset(dir, "0-3"))
}

// TestSetCpusetOutside: the parent has 0-7; asking for 9 leaves the kernel
// nothing, and it gives the cgroup all the parent's CPUs.
func TestSetCpusetOutside(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"cpuset.cpus.effective": "0-7\n"})
	err := SetCpuset(dir, "9")
	if err == nil || !strings.Contains(err.Error(), "cpuset.cpus is 9 but the kernel gives the cgroup CPUs 0-7") {
		t.Errorf("err = %v", err)
	}
	dir = cgroupDir(t, map[string]string{"cpuset.cpus.effective": "-"})
	if err := SetCpuset(dir, "1"); err == nil {
		t.Error("no cpuset.cpus.effective, no error")
	}
	if err := SetCpuset(dir, "1-"); err == nil || !strings.Contains(err.Error(), `"1-"`) {
		t.Errorf("a bad list: %v", err)
	}
	if err := SetCpuset(cgroupDir(t, map[string]string{"cpuset.cpus": "-"}), "1"); err == nil {
		t.Error("no cpuset.cpus, no error")
	}
}

func TestEffectiveCpus(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"cpuset.cpus.effective": "0-3,8-11\n"})
	if got, err := EffectiveCpus(dir); err != nil || got != "0-3,8-11" {
		t.Errorf("EffectiveCpus = %q, %v", got, err)
	}
	if _, err := EffectiveCpus(t.TempDir()); err == nil {
		t.Error("no file, no error")
	}
}
