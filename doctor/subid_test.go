package doctor

import (
	"os"
	"strings"
	"testing"
)

func TestParseSubIDs(t *testing.T) {
	const file = `# /etc/subuid
bob:165536:65536

  alice:100000:65536
1000:300000:65536
carol:200000:1000
dave:x:65536
erin:-5:65536
frank:400000:0
gail:500000
heidi:600000:10
heidi:700000:65536
heidi:800000:65536
`
	tests := []struct {
		user         string
		uid          int
		start, count int
		ok           bool
	}{
		{"alice", 2000, 100000, 65536, true},  // by name, leading space
		{"nobody", 1000, 300000, 65536, true}, // by uid
		{"alice", 1000, 100000, 65536, true},  // both match, equal size: the first
		{"", 1000, 300000, 65536, true},       // no name
		{"carol", -1, 200000, 1000, true},     // a short range is still returned
		{"dave", -1, 0, 0, false},             // malformed start
		{"erin", -1, 0, 0, false},             // negative start
		{"frank", -1, 0, 0, false},            // empty range
		{"gail", -1, 0, 0, false},             // two fields
		{"heidi", -1, 700000, 65536, true},    // largest wins, first of equals
		{"# /etc/subuid", -1, 0, 0, false},    // comments are not owners
		{"zed", 4242, 0, 0, false},
		{"165536", -1, 0, 0, false}, // a start is not an owner
	}
	for _, tt := range tests {
		start, count, ok := ParseSubIDs(strings.NewReader(file), tt.user, tt.uid)
		if start != tt.start || count != tt.count || ok != tt.ok {
			t.Errorf("ParseSubIDs(%q, %d) = %d, %d, %v; want %d, %d, %v",
				tt.user, tt.uid, start, count, ok, tt.start, tt.count, tt.ok)
		}
	}
}

func TestSubuidCheck(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fakeHost)
		status Status
		detail string // substring
		fix    string // exact
	}{
		{"by uid", func(f *fakeHost) {
			f.write("etc/subuid", "1000:100000:65536\n")
		}, OK, "ids 1..65535 map to 100000..165534", ""},
		{"different ranges", func(f *fakeHost) {
			f.write("etc/subgid", "alice:200000:70000\n")
		}, OK, "uids 1..65535 map to 100000..165534, gids 1..65535 map to 200000..265534", ""},
		{"no ranges", func(f *fakeHost) {
			f.write("etc/subuid", "bob:100000:65536\n")
			f.remove("etc/subgid")
		}, Warn, "no range for alice (uid 1000) in ",
			"sudo usermod --add-subuids 165536-231071 --add-subgids 100000-165535 alice"},
		{"short range", func(f *fakeHost) {
			f.write("etc/subgid", "alice:100000:1000\n")
		}, Warn, "has 1000 ids for alice (uid 1000), fewer than 65536",
			"sudo usermod --add-subgids 101000-166535 alice"},
		{"no user name", func(f *fakeHost) {
			f.h.UserName = ""
			f.write("etc/subuid", "")
			f.write("etc/subgid", "")
		}, Warn, "no range for uid 1000",
			`sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "$(id -un)"`},
		{"no uidmap", func(f *fakeHost) {
			delete(f.bins, "newuidmap")
			delete(f.bins, "newgidmap")
		}, Warn, "newuidmap not in PATH, newgidmap not in PATH; only one id maps, so chown inside fails",
			"sudo apt install uidmap"},
		{"alpine", func(f *fakeHost) {
			delete(f.bins, "newuidmap")
			f.write("etc/os-release", "ID=alpine\n")
			f.remove("etc/subuid")
		}, Warn, "newuidmap not in PATH",
			"sudo apk add shadow-uidmap && sudo usermod --add-subuids 100000-165535 alice"},
		{"not setuid", func(f *fakeHost) {
			f.bins["newgidmap"] = f.binary("newgidmap", 0o755)
		}, Warn, "newgidmap is neither setuid root nor has file capabilities",
			"sudo chmod u+s BIN/newgidmap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if os.Getuid() != 0 {
				t.Skip("the fake setuid helpers count only when owned by root")
			}
			f := newFakeHost(t)
			tt.setup(f)
			c := f.check("subuid")
			fix := strings.ReplaceAll(tt.fix, "BIN", f.path("bin"))
			if c.Status != tt.status || !strings.Contains(c.Detail, tt.detail) || c.Fix != fix {
				t.Errorf("got %s %q fix %q\nwant %s %q fix %q", c.Status, c.Detail, c.Fix, tt.status, tt.detail, fix)
			}
		})
	}
}
