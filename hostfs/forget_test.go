package hostfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// fdSlack is how many descriptors the process may open meanwhile on its
// own (the runtime's, the test framework's): the checks are against the
// hundreds a leak would leave.
const fdSlack = 4

// manyTree makes dirs directories d000... holding files files in all,
// f0000..., spread over them (file i in directory i%dirs). The files are
// links to one, with content "many\n": creating thousands of files is
// slow on some file systems, linking is not.
func manyTree(t *testing.T, dirs, files int) string {
	root := t.TempDir()
	proto := filepath.Join(t.TempDir(), "proto")
	if err := os.WriteFile(proto, []byte("many\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range dirs {
		if err := os.Mkdir(filepath.Join(root, fmt.Sprintf("d%03d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range files {
		if err := os.Link(proto, filepath.Join(root, fmt.Sprintf("d%03d/f%04d", i%dirs, i))); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Every node the kernel is given lives until the kernel forgets it, and
// no longer: FORGET brings the nodes (the live counter) and the directory
// descriptors they hold back to the root's alone, and the process's
// descriptors with them. Without OnForget's work, live and heldDirs would
// stay at their peak and the descriptors with them.
func TestForgetReleasesNodes(t *testing.T) {
	const dirs, files = 300, 2000
	root := manyTree(t, dirs, files)
	v := newTestFS(t, root, Config{})
	fds0 := openFDs(t)

	var dirIDs, fileIDs []uint64
	for i := range dirs {
		dirIDs = append(dirIDs, v.mustLookup(rootID, fmt.Sprintf("d%03d", i)))
	}
	for i := range files {
		d := dirIDs[i%dirs]
		id := v.mustLookup(d, fmt.Sprintf("f%04d", i))
		fileIDs = append(fileIDs, id)
		if i%97 == 0 {
			if data, st := v.readFile(id); st != fuse.OK || string(data) != "many\n" {
				t.Fatalf("f%04d: %q, %v", i, data, st)
			}
		}
	}
	// Names looked up again, and READDIRPLUS's entries, are lookups the
	// kernel gives back too.
	again := v.mustLookup(rootID, "d000")
	_, listed, st := v.readdirplus(dirIDs[1])
	if st != fuse.OK || len(listed) == 0 {
		t.Fatalf("listing d001: %d entries, %v", len(listed), st)
	}

	// One live node for each node ID the kernel holds.
	if want := int64(len(v.count)); v.live() != want || want < dirs+files {
		t.Errorf("live nodes = %d, want %d (at least %d)", v.live(), want, dirs+files)
	}
	if v.heldDirs() != dirs {
		t.Errorf("held directories = %d, want %d", v.heldDirs(), dirs)
	}
	if fds := openFDs(t); fds < fds0+dirs {
		t.Errorf("descriptors: %d, then %d with %d directories held", fds0, fds, dirs)
	}

	// Half the directories go first, before their files (go-fuse keeps
	// them until their last child goes), the rest after.
	for i, id := range dirIDs {
		if i%2 == 0 {
			v.forget(id)
		}
	}
	if v.heldDirs() != dirs {
		t.Errorf("held directories = %d after forgetting directories whose files are known; want %d", v.heldDirs(), dirs)
	}
	for _, id := range fileIDs {
		v.forget(id)
	}
	for _, id := range append(dirIDs, again) {
		v.forget(id)
	}
	v.forgetAll() // READDIRPLUS's
	if v.live() != 0 || v.heldDirs() != 0 {
		t.Errorf("after FORGET of every node: live %d, held directories %d; want 0, 0", v.live(), v.heldDirs())
	}
	if fds := openFDs(t); fds > fds0+fdSlack {
		t.Errorf("descriptors: %d before, %d after every FORGET", fds0, fds)
	}
	// The view still works, from the root.
	id := v.mustLookup(rootID, "d007/f0007")
	if data, st := v.readFile(id); st != fuse.OK || string(data) != "many\n" {
		t.Errorf("after FORGET: %q, %v", data, st)
	}
}

// Past maxHeldDirs, directories are reopened from their parents for each
// call instead of held: the held count and the process's descriptors stay
// bounded however many directories are walked, and everything still
// works, at any depth.
func TestHeldDirsBounded(t *testing.T) {
	const limit = 8
	setMaxHeldDirs(t, limit)
	root := manyTree(t, 100, 200)
	deep := root
	for i := range 30 {
		deep = filepath.Join(deep, fmt.Sprintf("c%02d", i))
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deep, "bottom"), []byte("bottom"), 0o644); err != nil {
		t.Fatal(err)
	}
	v := newTestFS(t, root, Config{})
	fds0 := openFDs(t)
	bounded := func(what string) {
		t.Helper()
		if h := v.heldDirs(); h > limit || h < 0 {
			t.Fatalf("%s: %d directories held, limit %d", what, h, limit)
		}
		if fds := openFDs(t); fds > fds0+limit+fdSlack {
			t.Fatalf("%s: %d descriptors, %d at the start, limit %d", what, fds, fds0, limit)
		}
	}

	for i := range 100 {
		name := fmt.Sprintf("d%03d", i)
		d := v.mustLookup(rootID, name)
		bounded("lookup " + name)
		f := v.mustLookup(d, fmt.Sprintf("f%04d", i))
		bounded("lookup in " + name)
		if data, st := v.readFile(f); st != fuse.OK || string(data) != "many\n" {
			t.Fatalf("%s/f%04d: %q, %v", name, i, data, st)
		}
		if _, st := v.getattr(d); st != fuse.OK {
			t.Fatalf("getattr %s: %v", name, st)
		}
		names, _, st := v.readdirplus(d)
		if st != fuse.OK || !contains(names, fmt.Sprintf("f%04d", i)) || !contains(names, fmt.Sprintf("f%04d", i+100)) {
			t.Fatalf("listing %s: %q, %v", name, names, st)
		}
		bounded("use of " + name)
	}
	if v.heldDirs() != limit {
		t.Errorf("held directories = %d, want the limit %d", v.heldDirs(), limit)
	}

	// A chain deeper than the limit: the bottom is reached by reopening
	// each unheld directory from its parent's, all the way up.
	id := uint64(rootID)
	for i := range 30 {
		id = v.mustLookup(id, fmt.Sprintf("c%02d", i))
		bounded(fmt.Sprintf("lookup c%02d", i))
	}
	bottom := v.mustLookup(id, "bottom")
	if data, st := v.readFile(bottom); st != fuse.OK || string(data) != "bottom" {
		t.Errorf("bottom of the chain: %q, %v", data, st)
	}
	if names, _, st := v.readdirplus(id); st != fuse.OK || !contains(names, "bottom") {
		t.Errorf("listing the bottom of the chain: %q, %v", names, st)
	}
	bounded("the chain")

	v.forgetAll()
	if v.live() != 0 || v.heldDirs() != 0 {
		t.Errorf("after FORGET of every node: live %d, held directories %d", v.live(), v.heldDirs())
	}
	if fds := openFDs(t); fds > fds0+fdSlack {
		t.Errorf("descriptors: %d before, %d after every FORGET", fds0, fds)
	}
}
