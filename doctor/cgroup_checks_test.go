package doctor

import (
	"strings"
	"testing"
)

func TestCgroup(t *testing.T) {
	hybrid := func(f *fakeHost) {
		f.fstype[f.h.CgroupFS] = tmpfsMagic
		f.fstype[f.path("sys/fs/cgroup/unified")] = cgroup2Magic
		f.write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
	}
	tests := []struct {
		name      string
		setup     func(f *fakeHost)
		v2, deleg Status
		detail    string // substring of cgroup2's detail, then of cgroup-delegation's
		delegFix  string // substring
	}{
		{"unified, delegated", func(f *fakeHost) {}, OK, OK,
			"controllers: cpuset cpu io memory pids", ""},
		{"hybrid", hybrid, Warn, Warn,
			"no cgroup v2 hierarchy with controllers (hybrid)", "systemd.unified_cgroup_hierarchy=1"},
		{"legacy", func(f *fakeHost) { f.fstype[f.h.CgroupFS] = tmpfsMagic }, Warn, Warn,
			"no cgroup v2 hierarchy with controllers (legacy)", "systemd.unified_cgroup_hierarchy=1"},
		{"nothing mounted", func(f *fakeHost) { delete(f.fstype, f.h.CgroupFS) }, Warn, Warn,
			"(none)", ""},
		{"not writable", func(f *fakeHost) {
			f.denied[f.path("sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope")] = true
		}, OK, Warn, "cgroup /user.slice/user-1000.slice/session-1.scope not writable by uid 1000",
			"systemd-run --user --scope -p Delegate=yes sbx run ...\nor: sudo mkdir -p /etc/systemd/system/user@.service.d"},
		{"procs not writable", func(f *fakeHost) {
			f.denied[f.path("sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/cgroup.procs")] = true
		}, OK, Warn, "not writable", "Delegate=cpu cpuset io memory pids"},
		{"systemd default delegation", func(f *fakeHost) {
			f.write("sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/cgroup.controllers", "memory pids\n")
		}, OK, Warn, "controllers missing: cpu (has: memory pids)", "Delegate=yes"},
		{"io is optional", func(f *fakeHost) {
			f.write("sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/cgroup.controllers", "cpu memory pids\n")
		}, OK, OK, "controllers: cpu memory pids", ""},
		{"no 0:: line", func(f *fakeHost) { f.write("proc/self/cgroup", "1:name=systemd:/\n") }, OK, Warn,
			"no cgroup v2 entry", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost(t)
			tt.setup(f)
			checks := Run(f.h)
			v2, d := find(t, checks, "cgroup2"), find(t, checks, "cgroup-delegation")
			if v2.Status != tt.v2 || d.Status != tt.deleg {
				t.Fatalf("cgroup2 %s %q, delegation %s %q; want %s, %s", v2.Status, v2.Detail, d.Status, d.Detail, tt.v2, tt.deleg)
			}
			if !strings.Contains(d.Detail, tt.detail) || !strings.Contains(d.Fix, tt.delegFix) {
				t.Errorf("delegation %q fix %q; want %q, fix with %q", d.Detail, d.Fix, tt.detail, tt.delegFix)
			}
		})
	}
}

func TestCgroup2Detail(t *testing.T) {
	f := newFakeHost(t)
	f.fstype[f.h.CgroupFS] = tmpfsMagic
	f.fstype[f.path("sys/fs/cgroup/unified")] = cgroup2Magic
	f.write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
	c := f.check("cgroup2")
	if !strings.HasPrefix(c.Detail, "hybrid: v1 controllers, cgroup v2 at ") ||
		!strings.Contains(c.Detail, "with controllers: hugetlb; limits like --memory unavailable") {
		t.Errorf("detail %q", c.Detail)
	}
	if !strings.Contains(c.Fix, "sudo update-grub") {
		t.Errorf("fix %q", c.Fix)
	}
	f.write("etc/os-release", "ID=\"centos\"\nID_LIKE=\"rhel fedora\"\n")
	if c := f.check("cgroup2"); !strings.HasPrefix(c.Fix, "sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1") {
		t.Errorf("fix on centos %q", c.Fix)
	}
}
