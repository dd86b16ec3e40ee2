package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTargetsStayInRoot: mount targets and the files sbx makes to mount
// over resolve inside the new root even where the host view holds
// symlinks that lead out of it: /dev, /proc and /tmp as absolute or
// relative links, /etc/hosts to a file outside, a --bind destination under
// a linked directory. Each resolves as if the root were /: inside it, or
// to nothing (a link to a path that exists only outside fails, and the run
// stops), and nothing is made or changed outside it.
func TestTargetsStayInRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root + "/etc", root + "/opt/real", outside + "/etc"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(outside+"/etc/hosts", []byte("host's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"dev":       outside,             // absolute, out of the root
		"proc":      "../outside",        // relative, up and out
		"tmp":       "../../../../../..", // far above /
		"etc/hosts": outside + "/etc/hosts",
		"opt/link":  "/opt/real",         // in the root's own terms
		"opt/up":    "../../outside/etc", // relative, out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	where := func(fd int) string {
		p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, target := range []string{"/dev/null", "/proc", "/tmp", "/opt/link/bind", "/opt/up/hosts"} {
		fd, err := r.mkdirAll(target, 0o755)
		if err != nil {
			t.Logf("mkdirAll %s: %v", target, err)
			continue
		}
		if got := where(fd); !strings.HasPrefix(got, root+"/") && got != root {
			t.Errorf("%s resolved to %s, outside %s", target, got, root)
		}
		unix.Close(fd)
	}
	// Links that lead somewhere inside resolve there.
	for _, target := range []string{"/tmp", "/opt/link/bind"} {
		if fd, err := r.open(target, unix.O_DIRECTORY); err != nil {
			t.Errorf("%s: %v", target, err)
		} else {
			unix.Close(fd)
		}
	}
	fd, err := r.mkfile("/etc/hosts", 0o644)
	if err == nil {
		if got := where(fd); !strings.HasPrefix(got, root+"/") {
			t.Errorf("/etc/hosts resolved to %s, outside %s", got, root)
		}
		unix.Close(fd)
	}
	// Nothing was made outside, and the file outside is untouched.
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 || entries[0].Name() != "etc" {
		t.Errorf("outside holds %v", entries)
	}
	if b, _ := os.ReadFile(outside + "/etc/hosts"); string(b) != "host's\n" {
		t.Errorf("outside hosts %q", b)
	}
	if _, err := os.Stat(outside + "/etc/bind"); err == nil {
		t.Error("made a directory outside")
	}
}
