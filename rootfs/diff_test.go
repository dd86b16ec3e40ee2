package rootfs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// layerDirs makes a lower and an upper directory beside each other, with
// the given entries ("/" suffix: directory; else a file).
func layerDirs(t *testing.T, lower, upper []string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	l, u := filepath.Join(dir, "lower"), filepath.Join(dir, "upper")
	for root, entries := range map[string][]string{l: lower, u: upper} {
		must(t, os.Mkdir(root, 0o755))
		for _, e := range entries {
			p := filepath.Join(root, e)
			if e[len(e)-1] == '/' {
				must(t, os.MkdirAll(p, 0o755))
				continue
			}
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.WriteFile(p, []byte(root), 0o644))
		}
	}
	return l, u
}

func TestChanges(t *testing.T) {
	lower, upper := layerDirs(t,
		[]string{"mod.txt", "gone", "sub/keep.txt", "opq/old.txt", "deep/a/b/"},
		[]string{
			"new.txt", "mod.txt", ".wh.gone", "newdir/inner/f", "sub/added.txt",
			"opq/.wh..wh..opq", "opq/fresh.txt", "deep/a/b/", "sub/.wh.keep.txt",
		})
	got := Changes([]Layer{{Target: "/etc", Lower: lower, Upper: upper}})
	want := []Change{
		{Path: "/etc/gone", Kind: "deleted"},
		{Path: "/etc/mod.txt", Kind: "modified"},
		{Path: "/etc/new.txt", Kind: "added"},
		{Path: "/etc/newdir", Kind: "added"},
		{Path: "/etc/newdir/inner", Kind: "added"},
		{Path: "/etc/newdir/inner/f", Kind: "added"},
		{Path: "/etc/opq", Kind: "modified"},
		{Path: "/etc/opq/fresh.txt", Kind: "added"},
		{Path: "/etc/sub/added.txt", Kind: "added"},
		{Path: "/etc/sub/keep.txt", Kind: "deleted"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes:\n got %+v\nwant %+v", got, want)
	}
}

func TestChangesSortedAcrossLayers(t *testing.T) {
	l1, u1 := layerDirs(t, nil, []string{"z", "b"})
	l2, u2 := layerDirs(t, nil, []string{"m"})
	l3, u3 := layerDirs(t, nil, nil) // an empty upper: nothing changed
	got := Changes([]Layer{
		{Target: "/usr", Lower: l1, Upper: u1},
		{Target: "/etc", Lower: l2, Upper: u2},
		{Target: "/opt", Lower: l3, Upper: u3},
	})
	want := []Change{
		{Path: "/etc/m", Kind: "added"},
		{Path: "/usr/b", Kind: "added"},
		{Path: "/usr/z", Kind: "added"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes:\n got %+v\nwant %+v", got, want)
	}
	if got := Changes(nil); got != nil {
		t.Errorf("Changes(nil) = %+v, want nil", got)
	}
}

func TestChangesCharDeviceWhiteout(t *testing.T) {
	lower, upper := layerDirs(t, []string{"gone", "dir/x"}, []string{"dir/"})
	if err := unix.Mknod(filepath.Join(upper, "gone"), unix.S_IFCHR|0o000, 0); err != nil {
		t.Skipf("mknod a 0/0 whiteout needs privilege (%v); covered by testscripts/run_cow_etc.txtar", err)
	}
	must(t, unix.Mknod(filepath.Join(upper, "dir", "x"), unix.S_IFCHR|0o000, 0))
	got := Changes([]Layer{{Target: "/var", Lower: lower, Upper: upper}})
	want := []Change{
		{Path: "/var/dir/x", Kind: "deleted"},
		{Path: "/var/gone", Kind: "deleted"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes:\n got %+v\nwant %+v", got, want)
	}
}

func TestChangesOpaqueXattr(t *testing.T) {
	lower, upper := layerDirs(t, []string{"d/old"}, []string{"d/"})
	if err := unix.Lsetxattr(filepath.Join(upper, "d"), "user.overlay.opaque", []byte("y"), 0); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: user xattrs unsupported here: %v", err)
		}
		t.Skipf("user xattrs unsupported here: %v", err)
	}
	got := Changes([]Layer{{Target: "/srv", Lower: lower, Upper: upper}})
	want := []Change{{Path: "/srv/d", Kind: "modified"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes:\n got %+v\nwant %+v", got, want)
	}
}

func TestQuotePath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/etc/hosts", "/etc/hosts"},
		{"/home/u/my file (1).txt", "/home/u/my file (1).txt"},
		{"/tmp/café/日本", "/tmp/café/日本"},
		{"/x\nadded    /forged", `"/x\nadded    /forged"`},
		{"/x\x1b[31mred", `"/x\x1b[31mred"`},
		{"/bad\xff\xfe", `"/bad\xff\xfe"`},
		{`/a"b`, `"/a\"b"`},
		{`/a\b`, `"/a\\b"`},
		{"/tab\there", `"/tab\there"`},
		{"/del\x7f", `"/del\x7f"`},
		{"/c1\u009b31m", `"/c1\u009b31m"`},
		{"/bidi\u202etxt.exe", `"/bidi\u202etxt.exe"`},
		{"", ""},
	} {
		if got := QuotePath(c.in); got != c.want {
			t.Errorf("QuotePath(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// An upper directory replaced by a symlink is not walked through.
func TestChangesUpperSymlink(t *testing.T) {
	lower, upper := layerDirs(t, nil, nil)
	victim := t.TempDir()
	must(t, os.WriteFile(filepath.Join(victim, "secret"), nil, 0o600))
	must(t, os.Remove(upper))
	must(t, os.Symlink(victim, upper))
	got := Changes([]Layer{{Target: "/etc", Lower: lower, Upper: upper}})
	want := []Change{{Path: "/etc", Kind: "unreadable"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes through a symlinked upper = %v, want %v", got, want)
	}
}

// TestChangesDirectoryMode names a host directory whose mode the command
// changed, and not one that was copied up only for what lies below it.
func TestChangesDirectoryMode(t *testing.T) {
	lower, upper := layerDirs(t, []string{"chmodded/", "passed/f"}, []string{"chmodded/", "passed/g"})
	must(t, os.Chmod(filepath.Join(upper, "chmodded"), 0o700))
	got := Changes([]Layer{{Target: "/usr/local", Lower: lower, Upper: upper}})
	want := []Change{
		{Path: "/usr/local/chmodded", Kind: "modified"},
		{Path: "/usr/local/passed/g", Kind: "added"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes:\n got %+v\nwant %+v", got, want)
	}
}

// TestChangesLayerRootMode names the target of a layer whose own mode the
// command changed (chmod /opt, when /opt is an overlay of its own).
func TestChangesLayerRootMode(t *testing.T) {
	lower, upper := layerDirs(t, nil, nil)
	must(t, os.Chmod(upper, 0o700))
	got := Changes([]Layer{{Target: "/opt", Lower: lower, Upper: upper}})
	if want := []Change{{Path: "/opt", Kind: "modified"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Changes:\n got %+v\nwant %+v", got, want)
	}
}
