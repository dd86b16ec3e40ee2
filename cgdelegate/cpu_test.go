package cgdelegate

import (
	"testing"
)

func TestSetCPUs(t *testing.T) {
	dir := cgroupDir(t, nil)
	noErr(t, SetCPUs(dir, 0.25))
	if got := readBack(t, dir, "cpu.max"); got != "25000 100000" {
		t.Errorf("cpu.max holds %q", got)
	}
	for _, bad := range []float64{0, -1, 0.001, 1025} {
		if err := SetCPUs(dir, bad); err == nil {
			t.Errorf("SetCPUs(%v) wrote %q", bad, readBack(t, dir, "cpu.max"))
		}
	}
	if err := SetCPUs(cgroupDir(t, map[string]string{"cpu.max": "-"}), 1); err == nil {
		t.Error("no cpu.max, no error")
	}
}

func TestReadCPU(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"cpu.stat": "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n" +
		"core_sched.force_idle_usec 0\nnr_periods 50\nnr_throttled 12\nthrottled_usec 345678\nnr_bursts 0\nburst_usec 0\n"})
	got := ReadCPU(dir)
	for name, c := range map[string]struct {
		p    *int64
		want int64
	}{
		"UsageUSec": {got.UsageUSec, 1234567}, "UserUSec": {got.UserUSec, 1000000}, "SystemUSec": {got.SystemUSec, 234567},
		"NrPeriods": {got.NrPeriods, 50}, "NrThrottled": {got.NrThrottled, 12}, "ThrottledUSec": {got.ThrottledUSec, 345678},
	} {
		if c.p == nil || *c.p != c.want {
			t.Errorf("%s = %v, want %d", name, c.p, c.want)
		}
	}
}

// TestReadCPUNoController: without the cpu controller, cpu.stat has the
// usage only.
func TestReadCPUNoController(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"cpu.stat": "usage_usec 10\nuser_usec 6\nsystem_usec 4\n"})
	got := ReadCPU(dir)
	if got.UsageUSec == nil || *got.UsageUSec != 10 || got.UserUSec == nil || got.SystemUSec == nil {
		t.Errorf("usage: %+v", got)
	}
	if got.NrPeriods != nil || got.NrThrottled != nil || got.ThrottledUSec != nil {
		t.Errorf("throttling fields invented: %+v", got)
	}
	if got := ReadCPU(t.TempDir()); got != (CPUStats{}) {
		t.Errorf("no cpu.stat: %+v", got)
	}
}
