package doctor

import (
	"errors"
	"strings"
	"testing"
)

func TestSeccompCheck(t *testing.T) {
	f := newFakeHost(t)
	if c := find(t, Run(f.h), "seccomp"); c.Status != OK || !strings.Contains(c.Detail, "filters install") {
		t.Errorf("good host: %s %q", c.Status, c.Detail)
	}
	f.probes["seccomp"] = errors.New("seccomp(SECCOMP_SET_MODE_FILTER): invalid argument")
	c := find(t, Run(f.h), "seccomp")
	if c.Status != Fail || !strings.Contains(c.Detail, "invalid argument") || !strings.Contains(c.Fix, "CONFIG_SECCOMP_FILTER") {
		t.Errorf("probe fails: %s %q fix %q", c.Status, c.Detail, c.Fix)
	}
	f.write("proc/self/status", "Name:\tdoctor\n")
	if c := find(t, Run(f.h), "seccomp"); c.Status != Fail || !strings.Contains(c.Detail, "no seccomp") {
		t.Errorf("no seccomp: %s %q", c.Status, c.Detail)
	}
}

func TestLandlockAndNoNewPrivs(t *testing.T) {
	f := newFakeHost(t)
	checks := Run(f.h)
	if c := find(t, checks, "landlock"); c.Status != OK || !strings.Contains(c.Detail, "ABI 4") {
		t.Errorf("landlock: %s %q", c.Status, c.Detail)
	}
	if c := find(t, checks, "no-new-privs"); c.Status != OK || strings.Contains(c.Detail, "older") {
		t.Errorf("no-new-privs: %s %q", c.Status, c.Detail)
	}
	f.h.LandlockABI = func() int { return 0 }
	f.write("proc/self/status", "Name:\tdoctor\nSeccomp:\t0\n")
	checks = Run(f.h)
	if c := find(t, checks, "landlock"); c.Status != OK || !strings.Contains(c.Detail, "not offered") {
		t.Errorf("no landlock: %s %q", c.Status, c.Detail)
	}
	if c := find(t, checks, "no-new-privs"); !strings.Contains(c.Detail, "older than 4.10") {
		t.Errorf("old kernel: %q", c.Detail)
	}
}
