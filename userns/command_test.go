package userns

import (
	"os"
	"reflect"
	"syscall"
	"testing"

	"github.com/sbx-sandbox/sbx/spec"
)

func TestInitCommand(t *testing.T) {
	sock, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	base := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	for _, tt := range []struct {
		net   spec.NetMode
		flags uintptr
	}{
		{spec.NetNone, base | syscall.CLONE_NEWNET},
		{spec.NetSlirp, base | syscall.CLONE_NEWNET},
		{spec.NetHost, base},
	} {
		cmd := InitCommand(&spec.Spec{Command: []string{"true"}, Net: tt.net}, sock, 40, -1)
		if cmd.Path != "/proc/self/exe" {
			t.Errorf("Path = %q", cmd.Path)
		}
		if len(cmd.Args) != 2 || cmd.Args[1] != "__init" {
			t.Errorf("Args = %q, want [argv0 __init]", cmd.Args)
		}
		if cmd.Env == nil || len(cmd.Env) != 0 {
			t.Errorf("Env = %#v, want empty and non-nil (nil inherits sbx's environment)", cmd.Env)
		}
		if len(cmd.ExtraFiles) != 1 || cmd.ExtraFiles[0] != sock {
			t.Errorf("ExtraFiles = %v, want just the socket (fd 3)", cmd.ExtraFiles)
		}
		if cmd.Stdin != os.Stdin || cmd.Stdout != os.Stdout || cmd.Stderr != os.Stderr {
			t.Error("stdio is not sbx's own")
		}
		a := cmd.SysProcAttr
		if a == nil {
			t.Fatal("no SysProcAttr")
		}
		if a.Cloneflags != tt.flags {
			t.Errorf("--net %s: Cloneflags = %#x, want %#x", tt.net, a.Cloneflags, tt.flags)
		}
		if got := Cloneflags(tt.net); got != tt.flags {
			t.Errorf("Cloneflags(%s) = %#x, want %#x", tt.net, got, tt.flags)
		}
		if !a.Setsid || a.Pdeathsig != syscall.SIGKILL {
			t.Errorf("Setsid = %v, Pdeathsig = %v; want true, SIGKILL", a.Setsid, a.Pdeathsig)
		}
		if len(a.AmbientCaps) != 41 || a.AmbientCaps[0] != 0 || a.AmbientCaps[40] != 40 {
			t.Errorf("AmbientCaps = %v, want 0..40", a.AmbientCaps)
		}
		if a.Credential != nil || a.UidMappings != nil {
			t.Error("the parent writes the id maps; the command must not set them")
		}
	}
}

func TestAllCaps(t *testing.T) {
	if got, want := AllCaps(3), []uintptr{0, 1, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("AllCaps(3) = %v, want %v", got, want)
	}
	if got := AllCaps(0); !reflect.DeepEqual(got, []uintptr{0}) {
		t.Errorf("AllCaps(0) = %v, want [0]", got)
	}
	if got := AllCaps(-1); len(got) != 0 {
		t.Errorf("AllCaps(-1) = %v, want none", got)
	}
}

func TestLastCap(t *testing.T) {
	n := LastCap()
	if n < 30 || n > 63 {
		t.Errorf("LastCap() = %d, want a capability number between 30 and 63", n)
	}
}

func TestInitCommandIntoCgroup(t *testing.T) {
	s := &spec.Spec{Command: []string{"true"}, Net: spec.NetNone}
	if a := InitCommand(s, os.Stdin, 40, -1).SysProcAttr; a.UseCgroupFD {
		t.Errorf("no cgroup given, but UseCgroupFD is set")
	}
	a := InitCommand(s, os.Stdin, 40, 7).SysProcAttr
	if !a.UseCgroupFD || a.CgroupFD != 7 {
		t.Errorf("UseCgroupFD %v CgroupFD %d, want true 7", a.UseCgroupFD, a.CgroupFD)
	}
}
