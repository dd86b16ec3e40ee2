package userns

import (
	"reflect"
	"syscall"
	"testing"
)

func TestIdentityMap(t *testing.T) {
	got, err := identityMap("         0       1000          1\n         1     100000      65535\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 1, Size: 65535}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "0 1000", "x 1 1", "0 1 0", "-1 0 1"} {
		if _, err := identityMap(bad); err == nil {
			t.Errorf("identityMap(%q): no error", bad)
		}
	}
}

func TestIDSpan(t *testing.T) {
	lo, hi, ok := idSpan("1 100000 999\n0 1000 1\n1000 101000 64536\n")
	if !ok || lo != 0 || hi != 65535 {
		t.Errorf("idSpan = %d %d %v, want 0 65535 true", lo, hi, ok)
	}
}

func TestNestFailed(t *testing.T) {
	for _, err := range []error{syscall.ENOSPC, syscall.EUSERS, syscall.EPERM} {
		if !nestFailed(err) {
			t.Errorf("%v: not a failure to nest", err)
		}
	}
	for _, err := range []error{syscall.ENOENT, syscall.EACCES, syscall.ENOEXEC} {
		if nestFailed(err) {
			t.Errorf("%v: taken for a failure to nest (it is the command's)", err)
		}
	}
}
