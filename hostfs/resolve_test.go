package hostfs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// resolveTree makes base/outside (what the view must never show) next to
// base/root (the served root), and returns them. outside has a file named
// like one inside (f), so that re-resolving a name there would find it.
func resolveTree(t *testing.T) (base, root, outside string) {
	base = t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	writeTree(t, outside, map[string]string{
		"secret": outsideMarker,
		"f":      outsideMarker,
		"osub/":  "",
	})
	// A mode of its own, so that its attributes are told from d's.
	if err := os.Chmod(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	writeTree(t, root, map[string]string{
		"a":       "-> " + outside,
		"rel":     "-> ../outside",
		"fl":      "-> ../outside/secret",
		"d/f":     "inside f\n",
		"d/up":    "-> ../../outside",
		"d/sub/k": "inside k\n",
		"g":       "inside g\n",
		"h":       "other h\n",
	})
	return base, root, outside
}

// Symlinks are served as symlinks: their text, never what they lead to.
// Were a component followed (an Openat or Fstatat without NOFOLLOW, or a
// name resolved as a path), "secret" would be found under the link and
// its content read.
func TestSymlinksServedAsLinks(t *testing.T) {
	_, root, outside := resolveTree(t)
	v := newTestFS(t, root, Config{})
	for path, target := range map[string]string{
		"a":    outside, // absolute
		"rel":  "../outside",
		"fl":   "../outside/secret", // to a file
		"d/up": "../../outside",     // from a subdirectory
	} {
		id := v.mustLookup(rootID, path)
		attr, st := v.getattr(id)
		if st != fuse.OK || attr.Mode&syscall.S_IFMT != syscall.S_IFLNK {
			t.Errorf("%s: getattr %v, mode %o: want a symlink", path, st, attr.Mode)
		}
		if got, st := v.readlink(id); st != fuse.OK || got != target {
			t.Errorf("%s: readlink = %q, %v; want %q", path, got, st, target)
		}
		for _, name := range []string{"secret", "f", "osub"} {
			if _, _, st := v.lookup(id, name); st == fuse.OK {
				t.Errorf("%s: lookup of %q under a symlink succeeded", path, name)
			}
		}
		names, _, st := v.readdirplus(id)
		if st == fuse.OK || len(names) > 0 {
			t.Errorf("%s: listing a symlink gave %q, %v; want an error", path, names, st)
		}
		data, st := v.readFile(id)
		noMarker(t, path, data)
		if st == fuse.OK {
			t.Errorf("%s: opening a symlink succeeded", path)
		}
	}
	// A file is no directory either.
	g := v.mustLookup(rootID, "g")
	if _, _, st := v.lookup(g, "x"); st == fuse.OK {
		t.Error("lookup under a file succeeded")
	}
	if got, st := v.readlink(g); st == fuse.OK {
		t.Errorf("readlink of a file = %q", got)
	}
}

// Names the kernel never sends for one entry (a hostile or confused
// request) are refused: with validName gone, Fstatat would resolve
// "../outside" or "a/secret" as paths, out of the root.
func TestBadNames(t *testing.T) {
	_, root, _ := resolveTree(t)
	long := strings.Repeat("n", 255)
	if err := os.WriteFile(filepath.Join(root, long), []byte("long\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v := newTestFS(t, root, Config{})
	d := v.mustLookup(rootID, "d")
	bad := []string{
		"..", "", "/", "a/secret", "rel/secret", "d/f", "../outside",
		"../outside/secret", "up/secret", "x\x00y", "d\x00", "/d",
		"d/../../outside", long + "n",
	}
	for _, parent := range []uint64{rootID, d} {
		for _, name := range bad {
			if id, _, st := v.lookup(parent, name); st == fuse.OK {
				data, _ := v.readFile(id)
				names, _, _ := v.readdirplus(id)
				t.Errorf("lookup %q in node %d succeeded (node %d, content %q, entries %q)", name, parent, id, data, names)
			}
		}
		// go-fuse answers "." itself, with the directory's own node.
		if id, _, st := v.lookup(parent, "."); st == fuse.OK && id != parent {
			t.Errorf("lookup \".\" in node %d gave node %d", parent, id)
		}
	}
	// The bridge intercepts "." and ".." before they reach the server:
	// the server must refuse them on its own too.
	for _, name := range append(bad, ".") {
		var out fuse.EntryOut
		if in, e := v.top.Lookup(context.Background(), name, &out); e != syscall.ENOENT || in != nil {
			t.Errorf("node.Lookup(%q) = %v, %v; want ENOENT", name, in, e)
		}
	}
	// The longest valid name is served.
	id := v.mustLookup(rootID, long)
	if data, st := v.readFile(id); st != fuse.OK || string(data) != "long\n" {
		t.Errorf("255-byte name: %q, %v", data, st)
	}
}

// A directory the kernel knows (d, and d/f, d/sub/k under it) is replaced
// on the host, under the same name, by a symlink leading outside or by
// another directory (the outside one, renamed in). What the old nodes
// serve must stay the objects they were looked up as.
//
// With d's descriptor held (the default bound), the old nodes still reach
// the original directory, wherever it was moved (even out of the root):
// serving it is right, it is what the kernel looked up; once it is removed
// they fail.
// With no descriptor held (maxHeldDirs 0), d is reopened from the root by
// name on every call: O_NOFOLLOW and the identity check must refuse what
// is there now (without them the outside "f" and "secret" would be served,
// or d moved outside and linked to).
func TestSwappedDirectory(t *testing.T) {
	for _, held := range []bool{true, false} {
		for _, swap := range []string{"symlink", "outside dir", "removed", "linked"} {
			name := swap
			if held {
				name += ", held"
			} else {
				name += ", reopened"
			}
			t.Run(name, func(t *testing.T) {
				if !held {
					setMaxHeldDirs(t, 0)
				}
				testSwappedDirectory(t, held, swap)
			})
		}
	}
}

func testSwappedDirectory(t *testing.T, held bool, swap string) {
	_, root, outside := resolveTree(t)
	v := newTestFS(t, root, Config{})
	d := v.mustLookup(rootID, "d")
	f := v.mustLookup(d, "f")
	k := v.mustLookup(d, "sub/k")
	if data, st := v.readFile(f); st != fuse.OK || string(data) != "inside f\n" {
		t.Fatalf("d/f before the swap: %q, %v", data, st)
	}
	if want := map[bool]int64{true: 2, false: 0}[held]; v.heldDirs() != want {
		t.Fatalf("held directories = %d, want %d", v.heldDirs(), want)
	}

	dir := filepath.Join(root, "d")
	var err error
	switch swap {
	case "symlink":
		if err = os.Rename(dir, filepath.Join(root, "d.old")); err == nil {
			err = os.Symlink("../outside", dir)
		}
	case "outside dir":
		if err = os.Rename(dir, filepath.Join(root, "d.old")); err == nil {
			err = os.Rename(outside, dir)
		}
	case "removed":
		if err = os.RemoveAll(dir); err == nil {
			err = os.Symlink(outside, dir)
		}
	case "linked":
		// d itself, moved out and linked to: the identity check passes,
		// only O_NOFOLLOW refuses it.
		if err = os.Rename(dir, filepath.Join(outside, "dmoved")); err == nil {
			err = os.Symlink("../outside/dmoved", dir)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	// The original is still there to be served only when it was moved
	// and its descriptor is held; otherwise every call must fail.
	mayServe := held && swap != "removed"

	check := func(what string, id uint64, want string) {
		t.Helper()
		data, st := v.readFile(id)
		noMarker(t, what, data)
		if st == fuse.OK && (!mayServe || string(data) != want) {
			t.Errorf("%s after the swap: read %q", what, data)
		}
		attr, st := v.getattr(id)
		if st == fuse.OK && (!mayServe || attr.Size != uint64(len(want))) {
			t.Errorf("%s after the swap: getattr succeeded, size %d", what, attr.Size)
		}
	}
	check("d/f", f, "inside f\n")
	check("d/sub/k", k, "inside k\n")

	for _, name := range []string{"secret", "osub", "f"} {
		id, _, st := v.lookup(d, name)
		if st != fuse.OK {
			continue
		}
		data, _ := v.readFile(id)
		noMarker(t, "d/"+name, data)
		if !mayServe || name != "f" {
			t.Errorf("lookup d/%s after the swap succeeded", name)
		}
	}

	names, _, st := v.readdirplus(d)
	if contains(names, "secret") || contains(names, "osub") {
		t.Errorf("listing d after the swap shows the outside: %q", names)
	}
	if !held && st == fuse.OK {
		t.Errorf("listing d after the swap succeeded: %q", names)
	}
	if attr, st := v.getattr(d); st == fuse.OK {
		if !held {
			t.Error("getattr of d after the swap succeeded")
		}
		if attr.Mode&0o777 == 0o700 {
			t.Errorf("getattr of d after the swap has the outside's mode %o", attr.Mode)
		}
	}
}

// A file replaced under its name after lookup is refused on open (the
// identity check: same device, inode and type), whatever replaced it.
// Without the check, the outside file renamed in would be served.
func TestSwappedFile(t *testing.T) {
	for _, swap := range []string{"file", "outside file", "symlink", "linked", "fifo"} {
		t.Run(swap, func(t *testing.T) {
			_, root, outside := resolveTree(t)
			v := newTestFS(t, root, Config{})
			g := v.mustLookup(rootID, "g")
			if data, st := v.readFile(g); st != fuse.OK || string(data) != "inside g\n" {
				t.Fatalf("g before the swap: %q, %v", data, st)
			}
			fh, st := v.open(g)
			if st != fuse.OK {
				t.Fatal(st)
			}
			defer v.release(g, fh)

			path, tmp := filepath.Join(root, "g"), filepath.Join(root, "g.new")
			var err error
			switch swap {
			case "file":
				err = os.Rename(filepath.Join(root, "h"), path)
			case "outside file":
				err = os.Rename(filepath.Join(outside, "secret"), path)
			case "symlink":
				if err = os.Symlink("../outside/f", tmp); err == nil {
					err = os.Rename(tmp, path)
				}
			case "linked":
				// g itself, moved out and linked to: the identity
				// check passes, only O_NOFOLLOW refuses it.
				if err = os.Rename(path, filepath.Join(outside, "gmoved")); err == nil {
					err = os.Symlink("../outside/gmoved", path)
				}
			case "fifo":
				// Opened without O_NONBLOCK, a fifo would hang the
				// server (and this test) here.
				if err = unix.Mkfifo(tmp, 0o644); err == nil {
					err = os.Rename(tmp, path)
				}
			}
			if err != nil {
				t.Fatal(err)
			}

			data, st := v.readFile(g)
			noMarker(t, "g", data)
			if st == fuse.OK {
				t.Errorf("open of the swapped g succeeded: %q", data)
			}
			if swap != "symlink" && swap != "linked" && st != fuse.Status(syscall.ESTALE) {
				t.Errorf("open of the swapped g: %v, want ESTALE", st)
			}
			if attr, st := v.getattr(g); st == fuse.OK {
				t.Errorf("getattr of the swapped g succeeded (size %d)", attr.Size)
			}
			// With an open file of its own (a handle), the server reads
			// what it opened; with no-open (handle 0) every read opens
			// the name again and must be refused. Never anything else.
			data, st = v.read(g, fh, 0, 100)
			noMarker(t, "g opened before the swap", data)
			if fh != 0 && (st != fuse.OK || string(data) != "inside g\n") ||
				fh == 0 && st == fuse.OK {
				t.Errorf("reading g opened before the swap (handle %d): %q, %v", fh, data, st)
			}
			// A new lookup sees what is there now, served as what it is.
			if swap == "symlink" || swap == "linked" {
				id := v.mustLookup(rootID, "g")
				if data, st := v.readFile(id); st == fuse.OK {
					t.Errorf("opening the symlink now at g succeeded: %q", data)
				}
			}
		})
	}
}

// The same object looked up again under the same name is the same node
// (the kernel revalidates cached names, and overlayfs fails with ESTALE
// when a lower entry's node changes); another object under that name is a
// new node, never the old one's identity.
func TestLookupAgain(t *testing.T) {
	_, root, _ := resolveTree(t)
	v := newTestFS(t, root, Config{})
	g1 := v.mustLookup(rootID, "g")
	if g2 := v.mustLookup(rootID, "g"); g2 != g1 {
		t.Errorf("g looked up again: node %d, then %d", g1, g2)
	}
	if v.count[g1] != 2 {
		t.Errorf("g looked up twice counts %d lookups", v.count[g1])
	}
	_, ids, _ := v.readdirplus(rootID)
	if !containsID(ids, g1) {
		t.Errorf("READDIRPLUS gave g another node: %v (g is %d)", ids, g1)
	}
	if err := os.Rename(filepath.Join(root, "h"), filepath.Join(root, "g")); err != nil {
		t.Fatal(err)
	}
	g3 := v.mustLookup(rootID, "g")
	if g3 == g1 {
		t.Fatal("another file under g is the old node")
	}
	if data, st := v.readFile(g3); st != fuse.OK || string(data) != "other h\n" {
		t.Errorf("the new g: %q, %v", data, st)
	}
	if data, st := v.readFile(g1); st == fuse.OK {
		t.Errorf("the old g node read %q", data)
	}
}

func containsID(ids []uint64, id uint64) bool {
	for _, i := range ids {
		if i == id {
			return true
		}
	}
	return false
}
