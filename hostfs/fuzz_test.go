package hostfs

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// fuzzNames are the names lookups pick from: the tree's own, the outside's,
// and what no entry is called.
var fuzzNames = []string{
	"..", ".", "", "a", "abs", "link", "d", "d2", "dlink", "f", "g", "s",
	"fifo", "e", "ef", "elink", "gone", "secret", "osub", "sub", "k", "up",
	"x", "/", "x\x00y", "d/f", "../outside", "link/secret",
	strings.Repeat("n", 255), strings.Repeat("n", 256),
}

// fuzzSwaps are pairs of names in the root the host exchanges under the
// server (each exchange undoes itself): directories, files, and symlinks
// leading outside, a fifo.
var fuzzSwaps = [][2]string{
	{"d", "d2"}, {"d", "dlink"}, {"f", "g"}, {"f", "s"}, {"f", "fifo"}, {"d/f", "d/up"},
}

// fuzzContents are all the file contents the view may return (lower case,
// no marker), so that every read is checked to be part of one of them.
var fuzzContents = []string{"inside root f\n", "inside g\n", "inside d f\n", "inside k\n", "inside d2 f\n"}

// Sizes no served file or directory has: the outside's files, the
// files the rules hide; and the outside's directories' mode. An attribute
// with one of them is the outside's, or hidden.
const (
	outsideSize = 4242
	hiddenSize  = 4343
	outsideMode = 0o700
)

func fuzzTree(t testing.TB) (root string) {
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	o := strings.Repeat(outsideMarker, outsideSize)[:outsideSize]
	h := strings.Repeat(hiddenMarker, hiddenSize)[:hiddenSize]
	writeTree(t, outside, map[string]string{"secret": o, "f": o, "osub/deep": o})
	for _, d := range []string{"osub", ""} {
		if err := os.Chmod(filepath.Join(outside, d), outsideMode); err != nil {
			t.Fatal(err)
		}
	}
	writeTree(t, root, map[string]string{
		"a":       "-> " + outside,
		"abs":     "-> " + filepath.Join(outside, "secret"),
		"link":    "-> ../outside",
		"dlink":   "-> ../outside",
		"s":       "-> ../outside/secret",
		"elink":   "-> e",
		"f":       fuzzContents[0],
		"g":       fuzzContents[1],
		"d/f":     fuzzContents[2],
		"d/up":    "-> ../../outside",
		"d/sub/k": fuzzContents[3],
		"d2/f":    fuzzContents[4],
		"e/x":     h,
		"ef":      h,
		"gone":    h,
	})
	if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

var fuzzConfig = Config{Empty: []string{"/e", "/ef"}, Absent: []string{"/gone"}}

// exchange swaps two names under the root atomically, as a host's rename
// would, and reports whether it did. The names are resolved without
// following a symlink (d may be one by then): the test must never move
// the outside into the root.
func exchange(root string, pair [2]string) bool {
	dir := filepath.Dir(pair[0])
	fd, err := unix.Open(filepath.Join(root, dir), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	a, b := filepath.Base(pair[0]), filepath.Base(pair[1])
	return unix.Renameat2(fd, a, fd, b, unix.RENAME_EXCHANGE) == nil
}

// fuzzer interprets its input as requests to one view, as the kernel
// would send them (only node IDs it was given, forgotten at most once),
// and checks every answer.
type fuzzer struct {
	t     *testing.T
	v     *tfs
	root  string
	swaps []int // the exchanges made, undone at the end
	in    []byte
	ids   []uint64          // known node IDs, the root first
	paths map[uint64]string // the names they were looked up by
	off   map[uint64]uint64 // where each directory's listing goes on
}

func (z *fuzzer) byte() byte {
	if len(z.in) == 0 {
		return 0
	}
	b := z.in[0]
	z.in = z.in[1:]
	return b
}

func (z *fuzzer) node() uint64 { return z.ids[int(z.byte())%len(z.ids)] }

func (z *fuzzer) add(id uint64, path string) {
	if _, ok := z.paths[id]; !ok {
		z.ids = append(z.ids, id)
		z.paths[id] = path
	}
}

// checkAttr fails on the attributes of what the view must not show.
func (z *fuzzer) checkAttr(what string, a fuse.Attr) {
	if a.Size == outsideSize || a.Size == hiddenSize || a.Mode&0o7777 == outsideMode {
		z.t.Fatalf("%s: attributes of the outside or hidden: size %d, mode %o", what, a.Size, a.Mode)
	}
}

func (z *fuzzer) lookup(parent uint64, name string) {
	id, attr, st := z.v.lookup(parent, name)
	path := z.paths[parent]
	if st != fuse.OK {
		return
	}
	z.checkAttr("lookup of "+name+" in "+path, attr)
	if name == "." {
		if id != parent {
			z.t.Fatalf("lookup \".\" in %s gave another node", path)
		}
		return
	}
	if !validName(name) {
		z.t.Fatalf("lookup of %q in %s succeeded", name, path)
	}
	child := strings.TrimSuffix(path, "/") + "/" + name
	switch {
	case child == "/gone":
		z.t.Fatalf("lookup of the absent /gone succeeded")
	case path == "/e" || strings.HasPrefix(path, "/e/"):
		z.t.Fatalf("lookup of %s in an empty directory succeeded", child)
	case (child == "/e" || child == "/ef") && attr.Size != 0:
		z.t.Fatalf("empty %s has size %d", child, attr.Size)
	}
	z.add(id, child)
}

func (z *fuzzer) read(id uint64) {
	off := int64(z.byte()) * 3
	size := 1 + int(z.byte())*16
	fh, st := z.v.open(id)
	if st != fuse.OK {
		return
	}
	data, st := z.v.read(id, fh, off, size)
	z.v.release(id, fh)
	if st != fuse.OK {
		return
	}
	path := z.paths[id]
	if path == "/ef" && len(data) > 0 {
		z.t.Fatalf("empty file %s read %q", path, data)
	}
	noMarker(z.t, "read of "+path, data)
	if len(data) > 0 {
		for _, c := range fuzzContents {
			if strings.Contains(c, string(data)) {
				return
			}
		}
		z.t.Fatalf("read of %s at %d returned %q, no served content", path, off, data)
	}
}

func (z *fuzzer) readdir(id uint64, plus bool) {
	path := z.paths[id]
	var off uint64
	switch b := z.byte(); b % 4 {
	case 0:
		off = 0
	case 1, 2:
		off = z.off[id]
	case 3:
		var raw [8]byte
		for i := range raw {
			raw[i] = z.byte()
		}
		off = binary.LittleEndian.Uint64(raw[:])
	}
	size := []int{0, 80, 200, 4096, 64 << 10}[int(z.byte())%5]
	fh, st := z.v.opendir(id)
	if st != fuse.OK {
		return
	}
	var names []string
	var outs []fuse.EntryOut
	var next uint64
	if plus {
		names, outs, next, st = z.v.readdirplusAt(id, fh, off, size)
	} else {
		names, next, st = z.v.readdirAt(id, fh, off, size)
		outs = make([]fuse.EntryOut, len(names)) // nothing looked up
	}
	z.v.releasedir(id, fh)
	if st != fuse.OK {
		return
	}
	z.off[id] = next
	for i, name := range names {
		if name == "." || name == ".." {
			if outs[i].NodeId != 0 {
				z.t.Fatalf("listing %s: %q given a node", path, name)
			}
			continue
		}
		switch {
		case !validName(name):
			z.t.Fatalf("listing %s: invalid name %q", path, name)
		case name == "secret" || name == "osub" || name == "deep":
			z.t.Fatalf("listing %s shows the outside's %q", path, name)
		case path == "/" && name == "gone":
			z.t.Fatalf("listing / shows the absent gone")
		case path == "/e" || strings.HasPrefix(path, "/e/"):
			z.t.Fatalf("empty %s lists %q", path, name)
		}
		if outs[i].NodeId != 0 {
			z.checkAttr("listing of "+path+", "+name, outs[i].Attr)
			z.add(outs[i].NodeId, strings.TrimSuffix(path, "/")+"/"+name)
		}
	}
}

func (z *fuzzer) forget() {
	if len(z.ids) < 2 {
		return
	}
	i := 1 + int(z.byte())%(len(z.ids)-1)
	id := z.ids[i]
	z.v.forget(id)
	z.ids = append(z.ids[:i], z.ids[i+1:]...)
	delete(z.paths, id)
	delete(z.off, id)
}

// The operations an input's bytes spell: an op byte, then its arguments
// (a node is an index into the nodes known so far, the root first).
const (
	opLookup    = 0  // node, name (index in fuzzNames)
	opLookupRaw = 2  // node, length, bytes
	opGetattr   = 3  // node
	opReaddir   = 4  // READDIRPLUS: node, offset (0: start, 1: go on, 3: 8 bytes), size
	opReaddirNo = 5  // READDIR, as opReaddir
	opRead      = 6  // node, offset/3, size/16
	opReadlink  = 8  // node
	opForget    = 9  // node (index-1 among all but the root)
	opSwap      = 10 // pair (index in fuzzSwaps)
	opStatfs    = 11 // node
)

func nameIndex(name string) byte {
	for i, n := range fuzzNames {
		if n == name {
			return byte(i)
		}
	}
	panic(name)
}

func swapIndex(a, b string) byte {
	for i, p := range fuzzSwaps {
		if p == [2]string{a, b} {
			return byte(i)
		}
	}
	panic(a + b)
}

// fuzzSeeds are inputs that reach each kind of request and check. Their
// first byte picks maxHeldDirs (0: the default, 1: none held).
func fuzzSeeds() [][]byte {
	n := nameIndex
	return [][]byte{
		{},
		// d, d/f read; d swapped for a symlink outside; d/f read,
		// getattr, d listed, d/secret looked up
		{0, opLookup, 0, n("d"), opLookup, 1, n("f"), opRead, 2, 0, 1,
			opSwap, swapIndex("d", "dlink"), opRead, 2, 0, 1, opGetattr, 2,
			opReaddir, 1, 0, 3, opLookup, 1, n("secret"), opLookup, 1, n("f"), opRead, 3, 0, 1},
		// the same with no directory held
		{1, opLookup, 0, n("d"), opLookup, 1, n("f"), opRead, 2, 0, 1,
			opSwap, swapIndex("d", "dlink"), opRead, 2, 0, 1, opGetattr, 2, opGetattr, 1,
			opReaddir, 1, 0, 3, opLookup, 1, n("secret"), opLookup, 1, n("sub")},
		// the root listed; its entries (looked up in order) read, their
		// links read, looked into, stat'ed
		{0, opReaddir, 0, 0, 4, opRead, 1, 0, 9, opRead, 2, 0, 9, opRead, 3, 0, 9,
			opReadlink, 1, opReadlink, 2, opReadlink, 3, opReadlink, 4, opReadlink, 5,
			opLookup, 1, n("secret"), opLookup, 2, n("secret"), opLookup, 3, n("f"),
			opStatfs, 0, opStatfs, 1, opStatfs, 2, opReaddir, 1, 0, 4, opReaddir, 2, 0, 4},
		// bad names, raw names
		{0, opLookup, 0, n(".."), opLookup, 0, n("."), opLookup, 0, n(""), opLookup, 0, n("/"),
			opLookup, 0, n("x\x00y"), opLookup, 0, n("d/f"), opLookup, 0, n("../outside"),
			opLookup, 0, n("link/secret"), opLookup, 0, n(strings.Repeat("n", 256)),
			opLookupRaw, 0, 9, '.', '.', '/', 'o', 'u', 't', 's', 'i', 'd',
			opLookupRaw, 0, 1, 'd', opLookupRaw, 1, 1, 'f', opRead, 2, 0, 1},
		// the rules: the empty directory and file, the absent name
		{0, opLookup, 0, n("e"), opLookup, 0, n("ef"), opLookup, 0, n("gone"),
			opReaddir, 1, 0, 4, opLookup, 1, n("x"), opRead, 2, 0, 1, opGetattr, 2,
			opLookup, 0, n("elink"), opReadlink, 3, opStatfs, 1, opStatfs, 2},
		// f swapped for the fifo, then the symlink, then g, read between
		{1, opLookup, 0, n("f"), opRead, 1, 0, 1, opSwap, swapIndex("f", "fifo"), opRead, 1, 0, 1,
			opSwap, swapIndex("f", "fifo"), opSwap, swapIndex("f", "s"), opRead, 1, 0, 1, opGetattr, 1,
			opSwap, swapIndex("f", "s"), opSwap, swapIndex("f", "g"), opRead, 1, 0, 1, opGetattr, 1,
			opLookup, 0, n("f"), opRead, 2, 0, 1},
		// a deep node, its directories forgotten first, listings resumed
		// from where they stopped and from a raw offset
		{2, opLookup, 0, n("d"), opLookup, 1, n("sub"), opLookup, 2, n("k"),
			opForget, 0, opForget, 0, opRead, 1, 0, 1, opSwap, swapIndex("d", "d2"), opRead, 1, 0, 1,
			opReaddir, 0, 0, 1, opReaddir, 0, 1, 1, opReaddir, 0, 1, 1, opReaddir, 0, 1, 2,
			opReaddir, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 4, opForget, 0, opForget, 0},
		// plain listings in chunks, the root and d, mixed with READDIRPLUS
		{0, opReaddirNo, 0, 0, 1, opReaddirNo, 0, 1, 1, opLookup, 0, n("d"), opReaddirNo, 1, 0, 1,
			opReaddir, 0, 1, 2, opReaddirNo, 1, 1, 4, opReaddirNo, 0, 1, 3, opSwap, swapIndex("d", "d2"),
			opReaddirNo, 1, 0, 4, opReaddir, 1, 0, 4},
	}
}

func (z *fuzzer) step() {
	switch op := z.byte() % 12; op {
	case 0, 1:
		parent := z.node()
		z.lookup(parent, fuzzNames[int(z.byte())%len(fuzzNames)])
	case 2:
		parent := z.node()
		n := int(z.byte()) % 40
		name := make([]byte, n)
		for i := range name {
			name[i] = z.byte()
		}
		z.lookup(parent, string(name))
	case 3:
		id := z.node()
		if attr, st := z.v.getattr(id); st == fuse.OK {
			z.checkAttr("getattr of "+z.paths[id], attr)
			if z.paths[id] == "/ef" && attr.Size != 0 {
				z.t.Fatalf("empty /ef has size %d", attr.Size)
			}
		}
	case 4:
		z.readdir(z.node(), true)
	case 5:
		z.readdir(z.node(), false)
	case 6, 7:
		z.read(z.node())
	case 8:
		z.v.readlink(z.node())
	case 9:
		z.forget()
	case 10:
		if i := int(z.byte()) % len(fuzzSwaps); exchange(z.root, fuzzSwaps[i]) {
			z.swaps = append(z.swaps, i)
		}
	case 11:
		z.v.statfs(z.node())
	}
}

// FuzzRequests sends a view, on a tree with symlinks leading outside and
// rules, the requests its input spells, while the host swaps names under
// it. Nothing may panic; no read may return anything but the served files'
// contents (never the outside's or the rules' markers); no listing may show
// an invalid name, the outside's names or what the rules hide, and no
// attributes may be the outside's; and once every node is forgotten, no
// node, held directory, open listing or descriptor remains.
func FuzzRequests(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	// One tree for all inputs (making one is slow on some file systems):
	// each input's exchanges are undone after it, even when it fails.
	root := fuzzTree(f)
	if !exchange(root, fuzzSwaps[0]) || !exchange(root, fuzzSwaps[0]) {
		gap(f, "the file system of the test's tree cannot exchange names (renameat2)")
	}
	// The descriptors before the first input: every input must leave the
	// process with no more, so that a leak of one per input shows.
	fds0 := -1
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 4096 {
			in = in[:4096]
		}
		held := []int64{16384, 0, 1, 2}
		if len(in) > 0 {
			setMaxHeldDirs(t, held[int(in[0])%len(held)])
			in = in[1:]
		}
		if fds0 < 0 {
			fds0 = openFDs(t)
		}
		v := newTestFS(t, root, fuzzConfig)
		z := &fuzzer{t: t, v: v, root: root, in: in, ids: []uint64{rootID},
			paths: map[uint64]string{rootID: "/"}, off: map[uint64]uint64{}}
		t.Cleanup(func() {
			for i := len(z.swaps) - 1; i >= 0; i-- {
				if !exchange(root, fuzzSwaps[z.swaps[i]]) {
					panic("cannot undo an exchange in the fuzz tree")
				}
			}
		})
		for steps := 0; len(z.in) > 0 && steps < 500; steps++ {
			z.step()
		}
		v.forgetAll()
		if v.live() != 0 || v.heldDirs() != 0 {
			t.Fatalf("after FORGET of every node: live %d, held directories %d", v.live(), v.heldDirs())
		}
		v.close()
		if c := v.top.v.cursors.Load(); c != 0 {
			t.Fatalf("after FORGET of every node and the root's: %d listings kept open", c)
		}
		if fds := openFDs(t); fds > fds0+fdSlack {
			t.Fatalf("descriptors: %d before the first input, %d after this one", fds0, fds)
		}
	})
}
