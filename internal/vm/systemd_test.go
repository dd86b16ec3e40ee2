package vm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The loader and the libraries systemd needs are found on this host,
// each once, each a file that exists; the interpreter, reached again as
// libc's DT_NEEDED, only by its PT_INTERP path.
func TestSharedObjects(t *testing.T) {
	if err := missingSession(); err != nil {
		t.Skip(err)
	}
	files, err := sharedObjects(sessionPrograms)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	names := map[string]string{}
	for _, f := range files {
		if seen[f] {
			t.Errorf("%s twice", f)
		}
		seen[f] = true
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
		if prev, ok := names[filepath.Base(f)]; ok {
			t.Errorf("%s and %s: one library twice", prev, f)
		}
		names[filepath.Base(f)] = f
	}
	for _, want := range append([]string{"libc.so.6", "ld-linux-x86-64.so.2"}, filepath.Base(SystemdBinary), "dbus-daemon") {
		if names[want] == "" {
			t.Errorf("no %s in %v", want, files)
		}
	}
	var shared bool
	for _, f := range files {
		shared = shared || strings.HasPrefix(filepath.Base(f), "libsystemd-shared-")
	}
	if !shared {
		t.Errorf("no libsystemd-shared (systemd's RUNPATH) in %v", files)
	}
}

// The units of user-units land in /etc/systemd/user, and one with
// WantedBy= is linked into that target's .wants.
func TestAddOwnUnits(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.socket"), []byte("[Socket]\nListenStream=%t/a\n\n[Install]\nWantedBy=sockets.target\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.service"), []byte("[Service]\nExecStart=/bin/true\n"), 0o644)
	var b bytes.Buffer
	c := newCPIO(&b)
	if err := addOwnUnits(c, dir); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]cpioEntry{}
	for _, e := range readCPIO(t, b.Bytes()) {
		got[e.name] = e
	}
	for _, name := range []string{"etc/systemd/user/a.socket", "etc/systemd/user/a.service"} {
		if e, ok := got[name]; !ok || e.mode != cpioReg|0o644 {
			t.Errorf("%s: %+v", name, e)
		}
	}
	l, ok := got["etc/systemd/user/sockets.target.wants/a.socket"]
	if !ok || l.mode != cpioLink|0o777 || l.data != "../a.socket" {
		t.Errorf("the link: %+v", l)
	}
	if _, ok := got["etc/systemd/user/sockets.target.wants/a.service"]; ok {
		t.Error("a.service, without WantedBy=, is linked")
	}
}

// A host without systemd or dbus-daemon is told what to install.
func TestMissingSession(t *testing.T) {
	saved := sessionPrograms
	defer func() { sessionPrograms = saved }()
	sessionPrograms = []string{"/nonexistent/systemd"}
	err := missingSession()
	if err == nil {
		t.Fatal("no error for a missing systemd")
	}
	for _, want := range []string{"/nonexistent/systemd", "apt-get install systemd dbus-daemon"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}
