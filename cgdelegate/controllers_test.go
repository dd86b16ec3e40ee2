package cgdelegate

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

func TestControllers(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"cgroup.subtree_control": "memory pids\n"})
	if got, err := Controllers(dir); err != nil || !reflect.DeepEqual(got, []string{"cpuset", "cpu", "io", "memory", "pids"}) {
		t.Errorf("Controllers = %q, %v", got, err)
	}
	if got, err := SubtreeControl(dir); err != nil || !reflect.DeepEqual(got, []string{"memory", "pids"}) {
		t.Errorf("SubtreeControl = %q, %v", got, err)
	}
	if got, err := SubtreeControl(cgroupDir(t, nil)); err != nil || len(got) != 0 {
		t.Errorf("SubtreeControl of a fresh cgroup = %q, %v", got, err)
	}
	if _, err := Controllers(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no cgroup.controllers: %v", err)
	}
}

func TestEnableControllers(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"cgroup.subtree_control": "memory\n"})
	noErr(t, EnableControllers(dir, []string{"memory", "pids", "cpu", "pids"}))
	if got := readBack(t, dir, "cgroup.subtree_control"); got != "+pids +cpu" {
		t.Errorf("wrote %q", got)
	}
	// All enabled already: nothing is written.
	dir = cgroupDir(t, map[string]string{"cgroup.subtree_control": "memory pids\n"})
	noErr(t, EnableControllers(dir, []string{"pids", "memory"}))
	if got := readBack(t, dir, "cgroup.subtree_control"); got != "memory pids\n" {
		t.Errorf("wrote %q", got)
	}
	if err := EnableControllers(cgroupDir(t, map[string]string{"cgroup.subtree_control": "-"}), []string{"pids"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no cgroup.subtree_control: %v", err)
	}
}

func TestControllerFor(t *testing.T) {
	for limit, want := range map[string]string{
		"--memory": "memory", "--memory-swap": "memory", "memory": "memory",
		"--cpus": "cpu", "--cpuset": "cpuset", "--pids": "pids",
		"--io-read-bps": "io", "--io-write-bps": "io", "io-read-bps": "io",
		"--timeout": "", "": "", "--cpu": "",
	} {
		if got := ControllerFor(limit); got != want {
			t.Errorf("ControllerFor(%q) = %q, want %q", limit, got, want)
		}
	}
}

func TestKill(t *testing.T) {
	dir := cgroupDir(t, nil)
	noErr(t, Kill(dir))
	if got := readBack(t, dir, "cgroup.kill"); got != "1" {
		t.Errorf("cgroup.kill holds %q", got)
	}
	// Before Linux 5.14.
	if err := Kill(cgroupDir(t, map[string]string{"cgroup.kill": "-"})); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no cgroup.kill: %v", err)
	}
}

func TestPopulated(t *testing.T) {
	for events, want := range map[string]bool{"populated 0\nfrozen 0\n": false, "populated 1\nfrozen 0\n": true, "populated 1\n": true} {
		if got, err := Populated(cgroupDir(t, map[string]string{"cgroup.events": events})); err != nil || got != want {
			t.Errorf("Populated(%q) = %v, %v", events, got, err)
		}
	}
	if _, err := Populated(cgroupDir(t, map[string]string{"cgroup.events": "frozen 0\n"})); err == nil || !strings.Contains(err.Error(), "no populated field") {
		t.Errorf("no populated field: %v", err)
	}
	if _, err := Populated(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no cgroup.events: %v", err)
	}
}

func TestProcs(t *testing.T) {
	if got, err := Procs(cgroupDir(t, map[string]string{"cgroup.procs": "1234\n1240\n"})); err != nil || !reflect.DeepEqual(got, []int{1234, 1240}) {
		t.Errorf("Procs = %v, %v", got, err)
	}
	if got, err := Procs(cgroupDir(t, nil)); err != nil || got != nil {
		t.Errorf("Procs of an empty cgroup = %v, %v", got, err)
	}
	if _, err := Procs(cgroupDir(t, map[string]string{"cgroup.procs": "12\nx\n"})); err == nil {
		t.Error("a bad line, no error")
	}
}
