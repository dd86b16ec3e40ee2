package doctor

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestAllOK(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the fake setuid helpers count only when owned by root")
	}
	f := newFakeHost(t)
	checks := Run(f.h)
	want := []string{"userns", "container-seccomp", "overlay-userns", "fuse-host-view", "fuse-overlayfs",
		"subuid", "tun", "cgroup2", "cgroup-delegation", "kernel", "seccomp", "no-new-privs", "landlock"}
	if len(checks) != len(want) {
		t.Fatalf("got %d checks, want %d", len(checks), len(want))
	}
	for i, c := range checks {
		if c.Name != want[i] {
			t.Errorf("check %d is %q, want %q", i, c.Name, want[i])
		}
		if c.Status != OK || c.Fix != "" {
			t.Errorf("%s: %s %q fix %q, want ok without fix", c.Name, c.Status, c.Detail, c.Fix)
		}
	}
	if Failed(checks) || Explain(checks) != "" {
		t.Errorf("Failed=%v Explain=%q on a good host", Failed(checks), Explain(checks))
	}
	if d := find(t, checks, "userns").Detail; d != "unprivileged user namespaces allowed (max_user_namespaces=63704)" {
		t.Errorf("userns detail %q", d)
	}
	if d := find(t, checks, "subuid").Detail; d != "ids 1..65535 map to 100000..165534" {
		t.Errorf("subuid detail %q", d)
	}
	// Several checks need the userns probe; it starts a process, so once.
	if f.calls["userns"] != 1 || f.calls["overlay"] != 1 || f.calls["fuse"] != 1 {
		t.Errorf("probe calls %v, want each once", f.calls)
	}
}

func TestUsernsSysctls(t *testing.T) {
	tests := []struct {
		file, value string
		uid         int
		status      Status
		fix         string
	}{
		{"user/max_user_namespaces", "0", 1000, Fail, "sudo sysctl -w user.max_user_namespaces=28633"},
		{"user/max_user_namespaces", "0", 0, Fail, "sudo sysctl -w user.max_user_namespaces=28633"},
		{"kernel/unprivileged_userns_clone", "0", 1000, Fail, "sudo sysctl -w kernel.unprivileged_userns_clone=1"},
		{"kernel/apparmor_restrict_unprivileged_userns", "1", 1000, Fail, "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
		// Root has CAP_SYS_ADMIN and is exempt; other users are not.
		{"kernel/apparmor_restrict_unprivileged_userns", "1", 0, Warn, "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
		{"kernel/apparmor_restrict_unprivileged_userns", "0", 1000, OK, ""},
		{"kernel/unprivileged_userns_clone", "1", 1000, OK, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%s,uid=%d", tt.file, tt.value, tt.uid), func(t *testing.T) {
			f := newFakeHost(t)
			f.h.UID = tt.uid
			f.write("proc/sys/"+tt.file, tt.value+"\n")
			checks := UsernsChecks(f.h)
			c := find(t, checks, "userns")
			if c.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", c.Status, c.Detail, tt.status)
			}
			if tt.fix == "" {
				return
			}
			lines := strings.Split(c.Fix, "\n")
			if lines[0] != tt.fix {
				t.Errorf("fix %q, want first line %q", c.Fix, tt.fix)
			}
			if len(lines) != 2 || !strings.Contains(lines[1], "/etc/sysctl.d/") {
				t.Errorf("fix %q does not persist the setting in /etc/sysctl.d/", c.Fix)
			}
			if tt.status == Fail && f.calls["userns"] != 0 {
				t.Errorf("probe ran although a sysctl forbids user namespaces")
			}
			if tt.status == Fail && !strings.Contains(Explain(checks), "; fix: "+tt.fix+"; ") {
				t.Errorf("Explain = %q", Explain(checks))
			}
		})
	}
}

func TestUsernsProbeFailure(t *testing.T) {
	t.Run("eperm outside a container", func(t *testing.T) {
		f := newFakeHost(t)
		f.probes["userns"] = fmt.Errorf("clone(CLONE_NEWUSER|CLONE_NEWNS): %w", syscall.EPERM)
		c := find(t, UsernsChecks(f.h), "userns")
		if c.Status != Fail || !strings.Contains(c.Detail, "operation not permitted") || c.Fix == "" {
			t.Errorf("got %+v", c)
		}
		if c := find(t, UsernsChecks(f.h), "container-seccomp"); c.Status != OK {
			t.Errorf("container-seccomp outside a container: %+v", c)
		}
	})
	t.Run("enospc", func(t *testing.T) {
		f := newFakeHost(t)
		f.probes["userns"] = fmt.Errorf("clone: %w", syscall.ENOSPC)
		c := find(t, UsernsChecks(f.h), "userns")
		if c.Status != Fail || !strings.HasPrefix(c.Fix, "sudo sysctl -w user.max_user_namespaces=") {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("inside docker with seccomp", func(t *testing.T) {
		f := newFakeHost(t)
		f.write("root/.dockerenv", "")
		f.write("proc/self/status", "Seccomp:\t2\n")
		f.probes["userns"] = fmt.Errorf("clone: %w", syscall.EPERM)
		checks := UsernsChecks(f.h)
		for _, name := range []string{"userns", "container-seccomp"} {
			c := find(t, checks, name)
			if c.Status != Fail || !strings.Contains(c.Fix, "docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined") {
				t.Errorf("%s: %+v", name, c)
			}
		}
		if c := find(t, checks, "container-seccomp"); !strings.Contains(c.Detail, "seccomp filter") {
			t.Errorf("detail %q does not mention the seccomp filter", c.Detail)
		}
		if f.calls["userns"] != 1 {
			t.Errorf("userns probe ran %d times", f.calls["userns"])
		}
	})
}

func TestContainerSeccomp(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fakeHost)
		runtime string // "" when not in a container
	}{
		{"bare host", func(f *fakeHost) {}, ""},
		{"docker", func(f *fakeHost) { f.write("root/.dockerenv", "") }, "docker"},
		{"podman", func(f *fakeHost) { f.write("root/run/.containerenv", "") }, "podman"},
		{"pid 1 environ", func(f *fakeHost) { f.write("proc/1/environ", "PATH=/bin\x00container=lxc\x00") }, "lxc"},
		{"kubepods", func(f *fakeHost) {
			f.write("proc/self/cgroup", "12:memory:/kubepods/besteffort/pod1/abc\n0::/\n")
		}, "kubernetes"},
		{"docker cgroup", func(f *fakeHost) { f.write("proc/self/cgroup", "4:memory:/docker/0123abcd\n") }, "docker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost(t)
			tt.setup(f)
			c := find(t, UsernsChecks(f.h), "container-seccomp")
			if c.Status != OK {
				t.Fatalf("%+v", c)
			}
			if tt.runtime == "" {
				if c.Detail != "not inside a container" {
					t.Errorf("detail %q", c.Detail)
				}
				return
			}
			ctr, _ := (&checker{h: f.h}).container()
			if ctr.runtime != tt.runtime {
				t.Errorf("runtime %q, want %q", ctr.runtime, tt.runtime)
			}
			if !strings.HasSuffix(c.Detail, "; namespaces allowed") {
				t.Errorf("detail %q", c.Detail)
			}
		})
	}
	t.Run("filtered, not probed", func(t *testing.T) {
		f := newFakeHost(t)
		f.h.Probe = nil
		f.write("root/run/.containerenv", "")
		f.write("proc/self/status", "Seccomp:\t2\n")
		c := find(t, UsernsChecks(f.h), "container-seccomp")
		if c.Status != Warn || !strings.HasPrefix(c.Fix, "podman run --security-opt seccomp=unconfined") {
			t.Errorf("%+v", c)
		}
	})
}

func TestKernel(t *testing.T) {
	tests := []struct {
		release string
		status  Status
	}{
		{"6.18.44-fc-v782", OK},
		{"5.12.0", OK},
		{"5.11.0-46-generic", Fail},
		{"5.10.0-28-amd64", Fail},
		{"4.18.0-513.el8.x86_64", Fail},
		{"4.4.0-210-generic", Fail},
		{"3.10.0", Fail},
		{"garbage", Warn},
		{"", Warn},
	}
	for _, tt := range tests {
		f := newFakeHost(t)
		f.h.KernelRelease = tt.release
		c := f.check("kernel")
		if c.Status != tt.status {
			t.Errorf("%q: %s (%s), want %s", tt.release, c.Status, c.Detail, tt.status)
		}
		if tt.status != OK && tt.release != "" && tt.release != "garbage" && !strings.Contains(c.Detail, tt.release) {
			t.Errorf("%q: detail %q does not name the release", tt.release, c.Detail)
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	tests := []struct {
		release      string
		major, minor int
		want         bool
	}{
		{"6.18.44-fc-v782", 5, 12, true},
		{"5.12.0", 5, 12, true},
		{"5.11.0-46-generic", 5, 12, false},
		{"5.11.0-46-generic", 5, 11, true},
		{"4.18.0-513.el8.x86_64", 5, 11, false},
		{"garbage", 0, 0, false},
	}
	for _, tt := range tests {
		if got := KernelAtLeast(tt.release, tt.major, tt.minor); got != tt.want {
			t.Errorf("KernelAtLeast(%q, %d, %d) = %v, want %v", tt.release, tt.major, tt.minor, got, tt.want)
		}
	}
}
