package hostfs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func rulesTree(t *testing.T) string {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"e/x":          hiddenMarker, // Empty directory: x is never seen
		"e/sub/y":      hiddenMarker,
		"ef":           hiddenMarker, // Empty file
		"gone":         hiddenMarker, // Absent file
		"gonedir/z":    hiddenMarker, // Absent directory
		"d/gone2":      hiddenMarker,
		"d/keep":       "keep\n",
		"d/e2/w":       hiddenMarker,
		"both":         hiddenMarker, // Empty and Absent: Absent wins
		"keep":         "keep\n",
		"notabs":       "not absolute\n",
		"dotdot/inner": "inner\n",
		"elink":        "-> e/x", // Empty symlink: its text is not read
	})
	return root
}

var rulesConfig = Config{
	Empty: []string{"/e", "/ef", "/d/e2/", "/both", "/nonexistent", "/", "relative/keep", "/elink"},
	Absent: []string{
		"/gone", "/gonedir", "//d/./gone2", "/both", "notabs", "/",
		"/dotdot/x/../inner/..", // cleaned: /dotdot, absent
	},
}

// Config.Empty paths are served as empty directories and files, without
// reading their contents; Config.Absent paths are neither found nor listed.
// Were a rule not applied, the marker in what it covers would be read or
// listed.
func TestRules(t *testing.T) {
	root := rulesTree(t)
	v := newTestFS(t, root, rulesConfig)

	// The root is never hidden, whatever the rules say of "/".
	names, _, st := v.readdirplus(rootID)
	if st != fuse.OK {
		t.Fatal(st)
	}
	for _, want := range []string{"e", "ef", "d", "keep", "notabs"} {
		if !contains(names, want) {
			t.Errorf("root listing %q lacks %q", names, want)
		}
	}
	plain, st := v.readdir(rootID)
	if st != fuse.OK {
		t.Fatal(st)
	}
	for _, gone := range []string{"gone", "gonedir", "both", "dotdot"} {
		if contains(names, gone) || contains(plain, gone) {
			t.Errorf("absent %q listed: READDIRPLUS %q, READDIR %q", gone, names, plain)
		}
		if _, _, st := v.lookup(rootID, gone); st != fuse.ENOENT {
			t.Errorf("lookup of absent %q: %v, want ENOENT", gone, st)
		}
	}

	// Empty directories: no entries, no lookups, no size.
	for _, path := range []string{"e", "d/e2"} {
		id := v.mustLookup(rootID, path)
		checkEmptyDir(t, v, path, id)
		if _, _, st := v.lookup(id, "x"); st != fuse.ENOENT {
			t.Errorf("lookup in empty %s: %v", path, st)
		}
		if _, _, st := v.lookup(id, "sub"); st != fuse.ENOENT {
			t.Errorf("lookup in empty %s: %v", path, st)
		}
		if st := v.statfs(id); st != fuse.OK {
			t.Errorf("statfs of empty %s: %v", path, st)
		}
	}

	// An empty file: size 0, reads nothing.
	ef := v.mustLookup(rootID, "ef")
	for _, attr := range []fuse.Attr{v.attrOf(ef)} {
		if attr.Mode&syscall.S_IFMT != syscall.S_IFREG || attr.Size != 0 || attr.Blocks != 0 {
			t.Errorf("empty file: mode %o size %d blocks %d", attr.Mode, attr.Size, attr.Blocks)
		}
	}
	if data, st := v.readFile(ef); st != fuse.OK || len(data) != 0 {
		t.Errorf("empty file read %q, %v", data, st)
	}
	// At an offset too, through one handle.
	if fh, st := v.open(ef); st == fuse.OK {
		data, _ := v.read(ef, fh, 3, 100)
		noMarker(t, "empty file", data)
		v.release(ef, fh)
	}

	// An empty symlink: no text.
	elink := v.mustLookup(rootID, "elink")
	if attr := v.attrOf(elink); attr.Mode&syscall.S_IFMT != syscall.S_IFLNK || attr.Size != 0 {
		t.Errorf("empty symlink: mode %o size %d", attr.Mode, attr.Size)
	}
	if text, st := v.readlink(elink); st == fuse.OK {
		t.Errorf("empty symlink read as %q", text)
	}
	if _, _, st := v.lookup(rootID, "nonexistent"); st != fuse.ENOENT {
		t.Errorf("an empty path not on the host: %v", st)
	}

	// Under d: gone2 absent, keep served.
	d := v.mustLookup(rootID, "d")
	names, _, _ = v.readdirplus(d)
	if contains(names, "gone2") || !contains(names, "keep") || !contains(names, "e2") {
		t.Errorf("listing of d: %q", names)
	}
	if _, _, st := v.lookup(d, "gone2"); st != fuse.ENOENT {
		t.Errorf("lookup of d/gone2: %v", st)
	}
	// A relative path is no rule: notabs is served.
	if data, st := v.readFile(v.mustLookup(rootID, "notabs")); st != fuse.OK || string(data) != "not absolute\n" {
		t.Errorf("notabs: %q, %v", data, st)
	}
	// Nodes READDIRPLUS made (in a view where nothing was looked up
	// before) follow the rules as those LOOKUP made.
	v = newTestFS(t, root, rulesConfig)
	rootNames, ids, _ := v.readdirplus(rootID)
	for i, name := range rootNames {
		switch {
		case ids[i] == 0:
			t.Errorf("READDIRPLUS did not look up %q", name)
		case name == "e":
			checkEmptyDir(t, v, "e (from READDIRPLUS)", ids[i])
		case name == "ef":
			if data, st := v.readFile(ids[i]); st != fuse.OK || len(data) != 0 {
				t.Errorf("ef from READDIRPLUS read %q, %v", data, st)
			}
		}
	}
}

func (v *tfs) attrOf(id uint64) fuse.Attr {
	v.t.Helper()
	attr, st := v.getattr(id)
	if st != fuse.OK {
		v.t.Fatalf("getattr of node %d: %v", id, st)
	}
	return attr
}

func checkEmptyDir(t *testing.T, v *tfs, path string, id uint64) {
	t.Helper()
	attr := v.attrOf(id)
	if attr.Mode&syscall.S_IFMT != syscall.S_IFDIR || attr.Size != 0 || attr.Nlink != 2 {
		t.Errorf("empty %s: mode %o size %d nlink %d", path, attr.Mode, attr.Size, attr.Nlink)
	}
	names, _, st := v.readdirplus(id)
	if st != fuse.OK || len(names) != 0 {
		t.Errorf("empty %s lists %q, %v", path, names, st)
	}
	plain, st := v.readdir(id)
	if st != fuse.OK || len(plain) != 0 {
		t.Errorf("empty %s lists %q, %v (READDIR)", path, plain, st)
	}
}

// newRules keeps absolute paths only, cleaned, never "/" itself; Absent
// wins over Empty for one path.
func TestNewRules(t *testing.T) {
	r := newRules(rulesConfig)
	for path, want := range map[string]policy{
		"/e": empty, "/ef": empty, "/d/e2": empty, "/both": absent, "/gone": absent,
		"/gonedir": absent, "/d/gone2": absent, "/dotdot": absent, "/d": serve,
		"/keep": serve, "/notabs": serve, "/relative": serve, "/nonexistent": empty,
		"/e/x": serve, // under an Empty directory: never reached anyway
	} {
		n := r
		for _, name := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
			n = n.child(name)
		}
		got := serve
		if n != nil {
			got = n.policy
		}
		if got != want {
			t.Errorf("rules for %s: %d, want %d", path, got, want)
		}
	}
	if r.policy != serve {
		t.Errorf("the root's policy is %d", r.policy)
	}
	if newRules(Config{}).child("x") != nil {
		t.Error("rules with no paths have children")
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "...": true, ".a": true, "a b": true, strings.Repeat("n", 255): true,
		"": false, ".": false, "..": false, "/": false, "a/b": false, "x\x00y": false,
		"\x00": false, strings.Repeat("n", 256): false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v", name, got)
		}
	}
}

// Owners map the caller's ids to its ids inside, the ids that exist inside
// to themselves, and every other to root.
func TestOwnersMapping(t *testing.T) {
	o := Owners{
		CallerUID: 1000, CallerGID: 1001, UID: 5, GID: 6,
		UIDs: []Span{{0, 1}, {100, 10}, {0xFFFFFFF0, 0x20}},
		GIDs: []Span{{0, 1}, {200, 1}},
	}
	for host, want := range map[uint32]uint32{
		1000: 5, 0: 0, 100: 100, 109: 109, 110: 0, 99: 0, 1: 0, 65534: 0,
		0xFFFFFFF0: 0xFFFFFFF0, 0xFFFFFFFF: 0xFFFFFFFF, 5: 0,
	} {
		if got := o.uid(host); got != want {
			t.Errorf("uid(%d) = %d, want %d", host, got, want)
		}
	}
	for host, want := range map[uint32]uint32{1001: 6, 1000: 0, 200: 200, 201: 0, 0: 0} {
		if got := o.gid(host); got != want {
			t.Errorf("gid(%d) = %d, want %d", host, got, want)
		}
	}
}

// The attributes the view serves carry the mapped owners, from LOOKUP,
// GETATTR and READDIRPLUS alike. The tree is the test's own (its uid u);
// as root, files are also given to other ids, so that "mapped to itself"
// and "unmapped to root" are told apart from root's own 0.
func TestOwnersInAttributes(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"mine": "m\n", "theirs": "t\n", "d/": ""})
	u, g := uint32(os.Getuid()), uint32(os.Getgid())
	tu, tg := u, g // owners of "theirs"
	if u == 0 {
		tu, tg = 4242, 4343
		if err := os.Lchown(filepath.Join(root, "theirs"), int(tu), int(tg)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		owners Owners
		mine   fuse.Owner // owners shown for "mine" (and "d")
		theirs fuse.Owner
	}{
		{"caller", Owners{CallerUID: u, CallerGID: g, UID: 1000, GID: 1001},
			fuse.Owner{Uid: 1000, Gid: 1001}, pick(u == 0, fuse.Owner{}, fuse.Owner{Uid: 1000, Gid: 1001})},
		{"mapped", Owners{CallerUID: 7, CallerGID: 7, UID: 1, GID: 1,
			UIDs: []Span{{u, 1}, {tu, 1}}, GIDs: []Span{{g, 1}, {tg, 1}}},
			fuse.Owner{Uid: u, Gid: g}, fuse.Owner{Uid: tu, Gid: tg}},
		{"unmapped", Owners{CallerUID: 7, CallerGID: 7, UID: 1, GID: 1,
			UIDs: []Span{{8, 1}}, GIDs: []Span{{8, 1}}},
			fuse.Owner{}, fuse.Owner{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newTestFS(t, root, Config{Owners: c.owners})
			check := func(what string, got, want fuse.Owner) {
				t.Helper()
				if got != want {
					t.Errorf("%s: owner %d:%d, want %d:%d", what, got.Uid, got.Gid, want.Uid, want.Gid)
				}
			}
			for _, f := range []struct {
				name string
				want fuse.Owner
			}{{"mine", c.mine}, {"theirs", c.theirs}, {"d", c.mine}} {
				id, attr, st := v.lookup(rootID, f.name)
				if st != fuse.OK {
					t.Fatal(st)
				}
				check(f.name+" (LOOKUP)", attr.Owner, f.want)
				check(f.name+" (GETATTR)", v.attrOf(id).Owner, f.want)
			}
			names, ids, _ := v.readdirplus(rootID)
			for i, name := range names {
				want := map[string]fuse.Owner{"mine": c.mine, "theirs": c.theirs, "d": c.mine}[name]
				check(name+" (READDIRPLUS, GETATTR)", v.attrOf(ids[i]).Owner, want)
			}
			// The root itself belongs to the caller.
			check("root", v.attrOf(rootID).Owner, c.mine)
		})
	}
}

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}
