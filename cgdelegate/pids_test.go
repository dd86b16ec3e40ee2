package cgdelegate

import "testing"

func TestSetPids(t *testing.T) {
	dir := cgroupDir(t, nil)
	noErr(t, SetPids(dir, 64))
	if got := readBack(t, dir, "pids.max"); got != "64" {
		t.Errorf("pids.max holds %q", got)
	}
	for _, bad := range []int64{0, -1, MaxPids + 1} {
		if err := SetPids(dir, bad); err == nil {
			t.Errorf("SetPids(%d) took it", bad)
		}
	}
	if err := SetPids(cgroupDir(t, map[string]string{"pids.max": "-"}), 1); err == nil {
		t.Error("no pids.max, no error")
	}
}

func TestReadPids(t *testing.T) {
	got := ReadPids(cgroupDir(t, map[string]string{"pids.current": "3\n", "pids.peak": "17\n"}))
	if got.Current == nil || *got.Current != 3 || got.Peak == nil || *got.Peak != 17 {
		t.Errorf("ReadPids = %+v", got)
	}
	// Linux 5.10: no pids.peak.
	got = ReadPids(cgroupDir(t, map[string]string{"pids.peak": "-"}))
	if got.Peak != nil || got.Current == nil {
		t.Errorf("ReadPids without pids.peak = %+v", got)
	}
}
