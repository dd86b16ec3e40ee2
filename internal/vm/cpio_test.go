package vm

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

type cpioEntry struct {
	name                       string
	mode, uid, gid, rmaj, rmin uint64
	data                       string
}

// readCPIO parses a newc archive strictly: magic, alignment, trailer.
func readCPIO(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	align := func() { off = (off + 3) &^ 3 }
	for {
		if off+110 > len(b) {
			t.Fatalf("truncated header at %d", off)
		}
		h := string(b[off : off+110])
		if h[:6] != "070701" {
			t.Fatalf("bad magic %q at %d", h[:6], off)
		}
		field := func(i int) uint64 {
			v, err := strconv.ParseUint(h[6+8*i:14+8*i], 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		size, namesize := int(field(6)), int(field(11))
		off += 110
		name := string(b[off : off+namesize-1])
		if b[off+namesize-1] != 0 {
			t.Fatalf("%s: name not NUL-terminated", name)
		}
		off += namesize
		align()
		data := string(b[off : off+size])
		off += size
		align()
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out = append(out, cpioEntry{name, field(1), field(2), field(3), field(9), field(10), data})
	}
}

func TestCPIO(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIO(&buf)
	c.File("/bin/sh", 0o755, []byte("#!x\n"))
	c.File("etc/motd", 0o644, []byte("hello"))
	c.Symlink("bin/ash", "sh")
	c.CharDev("dev/console", 0o600, 5, 1)
	c.Dir("tmp", 0o1777|1<<20) // fs.ModeSticky
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]cpioEntry{}
	var names []string
	for _, e := range readCPIO(t, buf.Bytes()) {
		got[e.name] = e
		names = append(names, e.name)
		if e.uid != 0 || e.gid != 0 {
			t.Errorf("%s: owner %d:%d, want root", e.name, e.uid, e.gid)
		}
	}
	// Parents come before their entries, once.
	if want := "bin bin/sh etc etc/motd bin/ash dev dev/console tmp"; strings.Join(names, " ") != want {
		t.Errorf("entries %q, want %q", strings.Join(names, " "), want)
	}
	for name, want := range map[string]struct {
		mode       uint64
		data       string
		rmaj, rmin uint64
	}{
		"bin":         {0o040755, "", 0, 0},
		"bin/sh":      {0o100755, "#!x\n", 0, 0},
		"etc/motd":    {0o100644, "hello", 0, 0},
		"bin/ash":     {0o120777, "sh", 0, 0},
		"dev/console": {0o020600, "", 5, 1},
		"tmp":         {0o041777, "", 0, 0},
	} {
		e := got[name]
		if e.mode != want.mode || e.data != want.data || e.rmaj != want.rmaj || e.rmin != want.rmin {
			t.Errorf("%s: mode %o data %q rdev %d:%d, want mode %o data %q rdev %d:%d",
				name, e.mode, e.data, e.rmaj, e.rmin, want.mode, want.data, want.rmaj, want.rmin)
		}
	}

	// And cpio(1), where there is one, reads it the same.
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("cpio", "-it", "--quiet")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cpio -it: %v\n%s", err, out)
		}
		if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(names, " ") {
			t.Errorf("cpio -it lists %q", got)
		}
	}
}
