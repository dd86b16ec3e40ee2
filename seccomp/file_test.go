//go:build linux

package seccomp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	moby "github.com/moby/profiles/seccomp"
	"golang.org/x/sys/unix"
)

func writeProfile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFileDenyList(t *testing.T) {
	path := writeProfile(t, `{
	"defaultAction": "SCMP_ACT_ALLOW",
	"syscalls": [
		{"names": ["mkdirat", "mkdir", "fstat64"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
		{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0},
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
		 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
		 "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
		{"names": ["mount"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
	]
}`)
	p := mustCompile(t, Options{Profile: path, Caps: []string{"CAP_CHOWN"}})
	if p.Mode != ModeFile || p.Source != path || len(p.Filters) != 1 {
		t.Fatalf("Mode %q Source %q, %d filters", p.Mode, p.Source, len(p.Filters))
	}
	// mkdirat, mkdir (not on arm64), getppid, personality, kill; fstat64 is
	// not native, mount is excluded (no CAP_SYS_ADMIN).
	info := native(t)
	_, hasMkdir := info.SyscallNames["mkdir"]
	if want := map[bool]int{true: 5, false: 4}[hasMkdir]; p.Rules != want {
		t.Errorf("Rules = %d, want %d", p.Rules, want)
	}
	a := uint32(info.ID)
	sc := func(name string, args ...uint64) call {
		c := call{arch: a, nr: nr(t, name)}
		copy(c.args[:], args)
		return c
	}
	eacces := uint32(unix.SECCOMP_RET_ERRNO | unix.EACCES)
	v := newVMs(t, p)
	wants := []want{
		{"mkdirat", sc("mkdirat"), eacces},
		{"getppid errno 0", sc("getppid"), unix.SECCOMP_RET_ERRNO},
		{"read", sc("read"), retAllow},
		{"mount", sc("mount"), retAllow},
		{"personality(8)", sc("personality", 8), retEPERM},
		{"personality(16)", sc("personality", 16), retEPERM},
		{"personality(0)", sc("personality", 0), retAllow},
		{"kill(1, 9)", sc("kill", 1, 9), retEPERM},
		{"kill(1, 15)", sc("kill", 1, 15), retAllow},
		{"keyctl (no additions)", sc("keyctl"), retAllow},
		{"ioctl TIOCSTI (no additions)", sc("ioctl", 0, unix.TIOCSTI), retAllow},
		{"unknown nr 999", call{arch: a, nr: 999}, retAllow},
		{"i386 mkdir", call{arch: uint32(arch.I386.ID), nr: 39}, retENOSYS},
		{"i386 read", call{arch: uint32(arch.I386.ID), nr: 3}, retENOSYS},
	}
	if hasMkdir {
		wants = append(wants, want{"mkdir", sc("mkdir"), eacces})
	}
	for _, w := range wants {
		if got := v.run(t, w.c); got != w.ret {
			t.Errorf("%s: got %s, want %s", w.name, retName(got), retName(w.ret))
		}
	}
	if info.ID == arch.X86_64.ID {
		if got := v.run(t, call{arch: a, nr: 0x40000000 | 83}); got != retENOSYS {
			t.Errorf("x32 mkdir: got %s", retName(got))
		}
	}
}

func TestFileDefaultErrno(t *testing.T) {
	path := writeProfile(t, `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
		"syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
		             {"names": ["getpid"], "action": "SCMP_ACT_KILL_PROCESS"}]}`)
	p := mustCompile(t, Options{Profile: path})
	info := native(t)
	v := newVMs(t, p)
	for _, w := range []want{
		{"read", call{arch: uint32(info.ID), nr: nr(t, "read")}, retAllow},
		{"getpid", call{arch: uint32(info.ID), nr: nr(t, "getpid")}, unix.SECCOMP_RET_KILL_PROCESS},
		{"openat", call{arch: uint32(info.ID), nr: nr(t, "openat")}, retENOSYS},
		{"999", call{arch: uint32(info.ID), nr: 999}, retENOSYS},
	} {
		if got := v.run(t, w.c); got != w.ret {
			t.Errorf("%s: got %s, want %s", w.name, retName(got), retName(w.ret))
		}
	}
	f := p.Filters[0]
	if last := f[len(f)-1]; last.Op != unix.BPF_RET|unix.BPF_K || last.K != retENOSYS {
		t.Errorf("last instruction %+v, want ret ERRNO(ENOSYS)", last)
	}
}

// Docker's default profile written out as JSON (what Docker's default.json
// holds) compiles as a file and keeps Docker's verdicts, without sbx's
// additions.
func TestFileDockerJSON(t *testing.T) {
	body, err := json.Marshal(moby.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	p := mustCompile(t, Options{Profile: writeProfile(t, string(body)), Caps: dockerCaps})
	def := mustCompile(t, Options{Caps: dockerCaps})
	info := native(t)
	v := newVMs(t, p)
	a := uint32(info.ID)
	for _, w := range []want{
		{"read", call{arch: a, nr: nr(t, "read")}, retAllow},
		{"mount", call{arch: a, nr: nr(t, "mount")}, retEPERM},
		{"clone3", call{arch: a, nr: nr(t, "clone3")}, retENOSYS},
		{"keyctl", call{arch: a, nr: nr(t, "keyctl")}, retEPERM},
		{"ioctl TIOCSTI (Docker allows it)", call{arch: a, nr: nr(t, "ioctl"), args: [6]uint64{0, unix.TIOCSTI}}, retAllow},
		{"clone NEWUSER", call{arch: a, nr: nr(t, "clone"), args: [6]uint64{unix.CLONE_NEWUSER}}, retEPERM},
		{"socket(AF_VSOCK)", call{arch: a, nr: nr(t, "socket"), args: [6]uint64{unix.AF_VSOCK}}, retEPERM},
		{"socket(AF_INET)", call{arch: a, nr: nr(t, "socket"), args: [6]uint64{unix.AF_INET}}, retAllow},
	} {
		if got := v.run(t, w.c); got != w.ret {
			t.Errorf("%s: got %s, want %s", w.name, retName(got), retName(w.ret))
		}
	}
	// Docker's rules less the syscalls sbx adds rules for.
	if p.Rules > def.Rules || p.Rules < def.Rules-len(deniedAlways)-5 {
		t.Errorf("file has %d rules, built-in default %d", p.Rules, def.Rules)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"malformed", "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [x]\n}", []string{"invalid character 'x'", "line 3"}},
		{"wrong type", "{\n\"defaultAction\": 7}", []string{"cannot unmarshal number", "line 2"}},
		{"unknown action", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_FOO"}]}`, []string{`unknown action "SCMP_ACT_FOO"`, "[read]"}},
		{"unknown default", `{"defaultAction": "SCMP_ACT_BAR"}`, []string{`defaultAction: unknown action "SCMP_ACT_BAR"`}},
		{"notify", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`, []string{`"SCMP_ACT_NOTIFY" is not supported`}},
		{"unknown op", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]}`, []string{`unknown operator "SCMP_CMP_XX"`}},
		{"bad index", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, []string{"index 6"}},
		{"masked eq", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 3, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]}]}`, []string{"not supported"}},
		{"empty", `{}`, []string{"no defaultAction"}},
		{"no default", `{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`, []string{"defaultAction: no action"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Compile(Options{Profile: path})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.want, "seccomp profile "+path+": ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	_, err := Compile(Options{Profile: missing})
	if err == nil || err.Error() != "seccomp profile "+missing+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	_, err = Compile(Options{Profile: dir})
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}
