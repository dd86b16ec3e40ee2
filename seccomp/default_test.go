//go:build linux

package seccomp

import (
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// dockerCaps is Docker's default capability set (no CAP_SYS_ADMIN).
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

var withAdmin = append([]string{"CAP_SYS_ADMIN", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_MODULE", "CAP_DAC_READ_SEARCH"}, dockerCaps...)

const (
	fork       = uint64(unix.SIGCHLD)
	threadFlag = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS |
		unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID
)

type want struct {
	name string
	c    call
	ret  uint32
}

func TestDefault(t *testing.T) {
	info := native(t)
	a := uint32(info.ID)
	sc := func(name string, args ...uint64) call {
		c := call{arch: a, nr: nr(t, name)}
		copy(c.args[:], args)
		return c
	}
	common := []want{
		{"read", sc("read", 0), retAllow},
		{"write", sc("write", 1), retAllow},
		{"openat", sc("openat", 0), retAllow},
		{"getpid", sc("getpid"), retAllow},
		{"exit_group", sc("exit_group"), retAllow},
		{"ioctl TCGETS", sc("ioctl", 0, unix.TCGETS), retAllow},
		{"ioctl TIOCSTI", sc("ioctl", 0, unix.TIOCSTI), retEPERM},
		{"ioctl TIOCSTI|1<<32", sc("ioctl", 0, unix.TIOCSTI|1<<32), retEPERM},
		{"ioctl TIOCLINUX", sc("ioctl", 0, unix.TIOCLINUX), retEPERM},
		{"ioctl TIOCLINUX in arg 2", sc("ioctl", 0, unix.TCGETS, unix.TIOCLINUX), retAllow},
		{"clone3", sc("clone3"), retENOSYS},
		{"personality(0)", sc("personality", 0), retAllow},
		{"personality(0xffffffff)", sc("personality", 0xffffffff), retAllow},
		{"personality(READ_IMPLIES_EXEC)", sc("personality", 0x0400000), retEPERM},
		{"socket(AF_INET)", sc("socket", unix.AF_INET), retAllow},
		{"socket(AF_UNIX)", sc("socket", unix.AF_UNIX), retAllow},
		{"socket(AF_INET6)", sc("socket", unix.AF_INET6), retAllow},
		{"socket(AF_NETLINK)", sc("socket", unix.AF_NETLINK), retAllow},
		// 40 is also sendfile's number on amd64: the accumulator must hold
		// the syscall number again after socket's argument checks.
		{"socket(AF_VSOCK)", sc("socket", unix.AF_VSOCK), retEPERM},
		{"socket(AF_ALG)", sc("socket", unix.AF_ALG), retEPERM},
		{"socket(AF_INET|1<<32)", sc("socket", unix.AF_INET|1<<32), retEPERM},
		{"unknown nr 999", call{arch: a, nr: 999}, retEPERM},
		{"nr -1", call{arch: a, nr: -1}, retENOSYS},
		{"i386 read", call{arch: uint32(arch.I386.ID), nr: 3}, retENOSYS},
		{"arm read", call{arch: uint32(arch.ARM.ID), nr: 3}, retENOSYS},
	}
	for _, name := range deniedAlways {
		if _, ok := info.SyscallNames[name]; ok {
			common = append(common, want{name, sc(name), retEPERM})
		}
	}
	if info.ID == arch.X86_64.ID {
		common = append(common,
			want{"x32 read", call{arch: a, nr: 0x40000000}, retENOSYS},
			want{"x32 ioctl", call{arch: a, nr: 0x40000000 | 514, args: [6]uint64{0, unix.TIOCSTI}}, retENOSYS},
		)
	}

	cases := []struct {
		name  string
		o     Options
		wants []want
	}{
		{"docker caps", Options{Caps: dockerCaps}, []want{
			{"fork", sc("clone", fork), retAllow},
			{"thread", sc("clone", threadFlag), retAllow},
			{"clone NEWUSER", sc("clone", unix.CLONE_NEWUSER|fork), retEPERM},
			{"clone NEWNS", sc("clone", unix.CLONE_NEWNS|fork), retEPERM},
			{"clone NEWNET", sc("clone", unix.CLONE_NEWNET), retEPERM},
			{"clone NEWTIME", sc("clone", unix.CLONE_NEWTIME), retEPERM},
			{"unshare(0)", sc("unshare", 0), retEPERM},
			{"unshare NEWUSER", sc("unshare", unix.CLONE_NEWUSER), retEPERM},
			{"setns", sc("setns", 3, 0), retEPERM},
			{"mount", sc("mount"), retEPERM},
			{"umount2", sc("umount2"), retEPERM},
			{"chroot (CAP_SYS_CHROOT)", sc("chroot"), retAllow},
		}},
		{"no caps", Options{}, []want{
			{"fork", sc("clone", fork), retAllow},
			{"clone NEWUSER", sc("clone", unix.CLONE_NEWUSER|fork), retEPERM},
			{"mount", sc("mount"), retEPERM},
			{"chroot", sc("chroot"), retEPERM},
		}},
		{"CAP_SYS_ADMIN", Options{Caps: withAdmin}, []want{
			{"fork", sc("clone", fork), retAllow},
			{"clone NEWUSER", sc("clone", unix.CLONE_NEWUSER|fork), retEPERM},
			{"unshare NEWNS", sc("unshare", unix.CLONE_NEWNS), retEPERM},
			{"setns", sc("setns", 3, 0), retEPERM},
			{"mount", sc("mount"), retAllow},
			{"umount2", sc("umount2"), retAllow},
			{"clone3", sc("clone3"), retENOSYS},
			{"bpf (CAP_BPF)", sc("bpf"), retEPERM},
			{"perf_event_open (CAP_PERFMON)", sc("perf_event_open"), retEPERM},
			{"init_module (CAP_SYS_MODULE)", sc("init_module"), retEPERM},
			{"open_by_handle_at", sc("open_by_handle_at"), retEPERM},
			{"fsopen", sc("fsopen"), retEPERM},
		}},
		{"nested userns", Options{Caps: dockerCaps, AllowNestedUserns: true}, []want{
			{"fork", sc("clone", fork), retAllow},
			{"clone NEWUSER", sc("clone", unix.CLONE_NEWUSER|fork), retAllow},
			{"clone NEWUSER|NEWNS|NEWPID", sc("clone", unix.CLONE_NEWUSER|unix.CLONE_NEWNS|unix.CLONE_NEWPID|fork), retAllow},
			{"unshare NEWUSER", sc("unshare", unix.CLONE_NEWUSER), retAllow},
			{"setns", sc("setns", 3, unix.CLONE_NEWUSER), retAllow},
			{"clone3", sc("clone3"), retENOSYS},
			// Mounts in the namespaces the command makes; the kernel
			// refuses them over the sandbox's own.
			{"mount", sc("mount"), retAllow},
			{"umount2", sc("umount2"), retAllow},
			{"pivot_root", sc("pivot_root"), retAllow},
			{"fsopen", sc("fsopen"), retEPERM},
			{"keyctl", sc("keyctl"), retEPERM},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompile(t, tc.o)
			if p.Mode != ModeDefault || p.Source != "" || len(p.Filters) != 1 {
				t.Fatalf("Mode %q Source %q, %d filters", p.Mode, p.Source, len(p.Filters))
			}
			v := newVMs(t, p)
			for _, w := range append(common, tc.wants...) {
				if got := v.run(t, w.c); got != w.ret {
					t.Errorf("%s: got %s, want %s", w.name, retName(got), retName(w.ret))
				}
			}
			t.Logf("%d rules, %d instructions", p.Rules, len(p.Filters[0]))
		})
	}
}

// The default never kills or traps: every return is ALLOW or an errno.
func TestDefaultReturnsOnlyErrnos(t *testing.T) {
	for _, o := range []Options{{}, {Caps: withAdmin}, {AllowNestedUserns: true}} {
		p := mustCompile(t, o)
		for _, f := range p.Filters {
			for i, in := range f {
				if in.Op&0x07 != unix.BPF_RET {
					continue
				}
				if act := in.K & unix.SECCOMP_RET_ACTION_FULL; act != unix.SECCOMP_RET_ALLOW && act != unix.SECCOMP_RET_ERRNO {
					t.Errorf("%+v: instruction %d returns %s", o, i, retName(in.K))
				}
			}
		}
	}
}

func TestUnconfined(t *testing.T) {
	p := mustCompile(t, Options{Profile: "unconfined"})
	if p.Mode != ModeUnconfined || len(p.Filters) != 0 || p.Rules != 0 {
		t.Fatalf("%+v", p)
	}
	if err := p.Install(); err != nil {
		t.Fatal(err)
	}
}
