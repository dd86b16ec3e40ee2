package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/sbx-sandbox/sbx/cgdelegate"
	"github.com/sbx-sandbox/sbx/spec"
)

func TestParseLimitsNamesFlagAndValue(t *testing.T) {
	for _, tt := range []struct {
		l    spec.Limits
		want string
	}{
		{spec.Limits{Memory: "lots"}, `--memory "lots": `},
		{spec.Limits{Memory: "1g", MemorySwap: "1m"}, `--memory-swap "1m": `},
		{spec.Limits{CPUs: "-1"}, `--cpus "-1": `},
		{spec.Limits{Cpuset: "a-b"}, `--cpuset "a-b": `},
		{spec.Limits{Pids: "0"}, `--pids "0": `},
		{spec.Limits{IORead: []string{"8:0:1m", "nodev"}}, `--io-read-bps "nodev": `},
		{spec.Limits{IOWrite: []string{"8:0"}}, `--io-write-bps "8:0": `},
	} {
		_, err := parseLimits(tt.l)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("parseLimits(%+v) = %v, want %q...", tt.l, err, tt.want)
		}
	}
	req, err := parseLimits(spec.Limits{Memory: "64m", CPUs: "0.5", Pids: "100", IOWrite: []string{"8:0:1m"}})
	if err != nil || req.Memory != 64<<20 || req.SwapMax != "0" || req.CPUs != 0.5 || req.Pids != 100 || len(req.IOWrite) != 1 {
		t.Fatalf("parseLimits = %+v, %v", req, err)
	}
	if got := strings.Join(req.Controllers(), " "); got != "memory cpu pids io" {
		t.Errorf("controllers %q", got)
	}
}

func TestRefusalSaysWhichWhyAndFix(t *testing.T) {
	err := refusal(cgdelegate.Hierarchy{Own: "/user.slice/user-1000.slice/session-2.scope"}, map[string]error{
		"--pids":   &cgdelegate.NotDelegated{Cgroup: "/user.slice/user-1000.slice/session-2.scope", Reason: errors.New("cgroup.procs is root's")},
		"--memory": &cgdelegate.NotDelegated{Cgroup: "/user.slice/user-1000.slice/session-2.scope", Reason: errors.New("cgroup.procs is root's")},
	}).Error()
	for _, want := range []string{"--memory --pids cannot be enforced here: cgroup /user.slice/user-1000.slice/session-2.scope is not delegated to you", "Fix: " + cgdelegate.FixScope, "--limits best-effort"} {
		if !strings.Contains(err, want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
}
