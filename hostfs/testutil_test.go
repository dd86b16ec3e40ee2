package hostfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// The tests drive the raw file system the way the kernel does: node IDs
// come back in EntryOut.NodeId (from LOOKUP, and from READDIRPLUS for each
// entry) and go out again in InHeader.NodeId. Every one counts as one
// lookup, which FORGET gives back.

// Markers are the contents the server must never return: what lies outside
// the served root, and what the rules hide. They are upper case; the
// contents of the files served are lower case, so a read of any part of a
// marker is told from a legitimate read.
const (
	outsideMarker = "OUTSIDE-SECRET"
	hiddenMarker  = "HIDDEN-SECRET"
)

// gap reports a test that cannot run here. In CI a gap fails the run.
func gap(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI: %s", why)
	}
	t.Skip(why)
}

// tfs is a view under test, and the lookups the "kernel" holds on it.
type tfs struct {
	t     testing.TB
	raw   fuse.RawFileSystem
	top   *node
	count map[uint64]uint64 // node ID: lookups not forgotten yet
}

const rootID = fuse.FUSE_ROOT_ID

// newTestFS serves root with c. On cleanup it forgets every node still
// held and closes the top's descriptors (close), so tests leave none.
func newTestFS(t testing.TB, root string, c Config) *tfs {
	t.Helper()
	raw, top, err := newFS(root, c)
	if err != nil {
		t.Fatalf("newFS(%s): %v", root, err)
	}
	v := &tfs{t: t, raw: raw, top: top, count: map[uint64]uint64{}}
	t.Cleanup(v.close)
	return v
}

// close is what an unmount does: every node forgotten, the root's OnForget
// (go-fuse's OnUnmount: it ends a listing the root keeps open), then the
// root's descriptor closed, as Server.Close does.
func (v *tfs) close() {
	v.forgetAll()
	v.top.OnForget()
	if v.top.dir >= 0 {
		unix.Close(v.top.dir)
		v.top.dir = -1
	}
}

func (v *tfs) live() int64     { return v.top.v.live.Load() }
func (v *tfs) heldDirs() int64 { return v.top.v.heldDirs.Load() }

func hdr(id uint64) fuse.InHeader {
	return fuse.InHeader{NodeId: id, Caller: fuse.Caller{Owner: fuse.Owner{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}}}
}

// lookup is LOOKUP of name in the directory parent. A miss is ENOENT (the
// bridge answers it as a negative entry: OK with node ID 0).
func (v *tfs) lookup(parent uint64, name string) (uint64, fuse.Attr, fuse.Status) {
	var out fuse.EntryOut
	st := v.raw.Lookup(nil, ptr(hdr(parent)), name, &out)
	if st != fuse.OK {
		return 0, fuse.Attr{}, st
	}
	if out.NodeId == 0 {
		return 0, fuse.Attr{}, fuse.ENOENT
	}
	v.count[out.NodeId]++
	return out.NodeId, out.Attr, fuse.OK
}

func ptr[T any](x T) *T { return &x }

// mustLookup looks up a path of names from parent, failing the test on a miss.
func (v *tfs) mustLookup(parent uint64, path string) uint64 {
	v.t.Helper()
	id := parent
	for _, name := range strings.Split(path, "/") {
		next, _, st := v.lookup(id, name)
		if st != fuse.OK {
			v.t.Fatalf("lookup %q (in %q): %v", name, path, st)
		}
		id = next
	}
	return id
}

func (v *tfs) getattr(id uint64) (fuse.Attr, fuse.Status) {
	var out fuse.AttrOut
	st := v.raw.GetAttr(nil, &fuse.GetAttrIn{InHeader: hdr(id)}, &out)
	return out.Attr, st
}

// open is OPEN, read-only. ENOSYS is FUSE's no-open: the kernel then
// counts the open as done and reads with file handle 0.
func (v *tfs) open(id uint64) (uint64, fuse.Status) {
	var out fuse.OpenOut
	st := v.raw.Open(nil, &fuse.OpenIn{InHeader: hdr(id), Flags: uint32(os.O_RDONLY)}, &out)
	if st == fuse.ENOSYS {
		return 0, fuse.OK
	}
	return out.Fh, st
}

func (v *tfs) read(id, fh uint64, off int64, size int) ([]byte, fuse.Status) {
	buf := make([]byte, size)
	in := &fuse.ReadIn{InHeader: hdr(id), Fh: fh, Offset: uint64(off), Size: uint32(size)}
	res, st := v.raw.Read(nil, in, buf)
	if st != fuse.OK {
		return nil, st
	}
	data, st := res.Bytes(buf)
	res.Done()
	return append([]byte(nil), data...), st
}

func (v *tfs) release(id, fh uint64) {
	if fh == 0 {
		return // no-open: the kernel sends no RELEASE
	}
	v.raw.Release(nil, &fuse.ReleaseIn{InHeader: hdr(id), Fh: fh})
}

// readFile opens, reads to the end and releases the node id.
func (v *tfs) readFile(id uint64) ([]byte, fuse.Status) {
	fh, st := v.open(id)
	if st != fuse.OK {
		return nil, st
	}
	defer v.release(id, fh)
	var all []byte
	for {
		data, st := v.read(id, fh, int64(len(all)), 4096)
		if st != fuse.OK {
			return all, st
		}
		if len(data) == 0 {
			return all, fuse.OK
		}
		all = append(all, data...)
	}
}

// opendir is OPENDIR; ENOSYS is FUSE's no-opendir, as for open.
func (v *tfs) opendir(id uint64) (uint64, fuse.Status) {
	var out fuse.OpenOut
	st := v.raw.OpenDir(nil, &fuse.OpenIn{InHeader: hdr(id)}, &out)
	if st == fuse.ENOSYS {
		return 0, fuse.OK
	}
	return out.Fh, st
}

func (v *tfs) releasedir(id, fh uint64) {
	if fh == 0 {
		return
	}
	v.raw.ReleaseDir(&fuse.ReleaseIn{InHeader: hdr(id), Fh: fh})
}

// readdirplusAt is one READDIRPLUS on an open directory from off: the
// names, their entries (node ID 0 where not looked up; the others are
// counted as lookups), and where the next call goes on.
func (v *tfs) readdirplusAt(id, fh, off uint64, size int) ([]string, []fuse.EntryOut, uint64, fuse.Status) {
	buf := make([]byte, size)
	list := fuse.NewDirEntryList(buf, off)
	st := v.raw.ReadDirPlus(nil, &fuse.ReadIn{InHeader: hdr(id), Fh: fh, Offset: off, Size: uint32(size)}, list)
	if st != fuse.OK {
		return nil, nil, off, st
	}
	ents, outs, err := fuse.ParseDirLookupEntries(list.Bytes())
	if err != nil {
		v.t.Fatalf("READDIRPLUS output: %v", err)
	}
	var names []string
	for i, e := range ents {
		names = append(names, e.Name)
		if outs[i].NodeId != 0 {
			v.count[outs[i].NodeId]++
		}
	}
	return names, outs, list.Offset, fuse.OK
}

// readdirplus lists the directory id with OPENDIR, READDIRPLUS to the end
// and RELEASEDIR: its entries other than "." and "..", and their node IDs.
func (v *tfs) readdirplus(id uint64) ([]string, []uint64, fuse.Status) {
	fh, st := v.opendir(id)
	if st != fuse.OK {
		return nil, nil, st
	}
	defer v.releasedir(id, fh)
	var names []string
	var ids []uint64
	off := uint64(0)
	for {
		n, i, next, st := v.readdirplusAt(id, fh, off, 64*1024)
		if st != fuse.OK {
			return names, ids, st
		}
		if len(n) == 0 {
			return names, ids, fuse.OK
		}
		for j := range n {
			if n[j] != "." && n[j] != ".." {
				names, ids = append(names, n[j]), append(ids, i[j].NodeId)
			}
		}
		off = next
	}
}

// readdirAt is one plain READDIR (no lookups) from off: the names, and
// where the next call goes on.
func (v *tfs) readdirAt(id, fh, off uint64, size int) ([]string, uint64, fuse.Status) {
	buf := make([]byte, size)
	list := fuse.NewDirEntryList(buf, off)
	st := v.raw.ReadDir(nil, &fuse.ReadIn{InHeader: hdr(id), Fh: fh, Offset: off, Size: uint32(size)}, list)
	if st != fuse.OK {
		return nil, off, st
	}
	ents, err := fuse.ParseDirEntries(list.Bytes())
	if err != nil {
		v.t.Fatalf("READDIR output: %v", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	return names, list.Offset, fuse.OK
}

// readdir lists the directory id with plain READDIR to the end, without
// "." and "..".
func (v *tfs) readdir(id uint64) ([]string, fuse.Status) {
	fh, st := v.opendir(id)
	if st != fuse.OK {
		return nil, st
	}
	defer v.releasedir(id, fh)
	var names []string
	off := uint64(0)
	for {
		n, next, st := v.readdirAt(id, fh, off, 64*1024)
		if st != fuse.OK {
			return names, st
		}
		if len(n) == 0 {
			return names, fuse.OK
		}
		for _, name := range n {
			if name != "." && name != ".." {
				names = append(names, name)
			}
		}
		off = next
	}
}

func (v *tfs) readlink(id uint64) (string, fuse.Status) {
	out, st := v.raw.Readlink(nil, ptr(hdr(id)))
	return string(out), st
}

func (v *tfs) statfs(id uint64) fuse.Status {
	var out fuse.StatfsOut
	return v.raw.StatFs(nil, ptr(hdr(id)), &out)
}

// forget gives back every lookup of id.
func (v *tfs) forget(id uint64) {
	n := v.count[id]
	if n == 0 {
		return
	}
	delete(v.count, id)
	v.raw.Forget(id, n)
}

func (v *tfs) forgetAll() {
	for id := range v.count {
		v.forget(id)
	}
}

// openFDs is the number of descriptors the process has open.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	return len(ents)
}

// setMaxHeldDirs lowers the bound on held directory descriptors for one test.
func setMaxHeldDirs(t testing.TB, n int64) {
	old := maxHeldDirs
	maxHeldDirs = n
	t.Cleanup(func() { maxHeldDirs = old })
}

// writeTree makes the files (content; a name ending in "/" is a
// directory; content "-> target" a symlink) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(content, "-> "):
			err = os.Symlink(strings.TrimPrefix(content, "-> "), p)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// noMarker fails the test if data holds any part of a marker: any upper
// case letter, which no served content has.
func noMarker(t testing.TB, what string, data []byte) {
	t.Helper()
	for _, c := range data {
		if c >= 'A' && c <= 'Z' {
			t.Fatalf("%s returned content that is not served: %q", what, data)
		}
	}
}
