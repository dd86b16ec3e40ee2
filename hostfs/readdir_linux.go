package hostfs

import (
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
)

// lister lists directories without opening them: OPENDIR answers ENOSYS,
// so the kernel never sends OPENDIR or RELEASEDIR again and caches what
// it has listed (FUSE's no-opendir). Each READDIR(PLUS) then reads the
// host's directory from the offset it asks for. A walk of /usr is one
// request for most directories instead of three or four.
type lister struct {
	fuse.RawFileSystem
	v *view
}

func (l *lister) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return fuse.ENOSYS
}

func (l *lister) ReleaseDir(in *fuse.ReleaseIn) {}

func (l *lister) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return l.list(cancel, in, out, false)
}

func (l *lister) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return l.list(cancel, in, out, true)
}

// direntBuf is what one getdents reads: about as much as a reply holds.
const direntBuf = 32 << 10

// direntBufs lends cursors their buffers: a walk opens one per directory.
var direntBufs = sync.Pool{New: func() any { return new([direntBuf]byte) }}

// closeFD closes the cursor's directory and gives its buffer back.
func (c *cursor) closeFD() {
	unix.Close(c.fd)
	direntBufs.Put((*[direntBuf]byte)(c.buf))
	c.buf, c.pending = nil, nil
}

// maxCursors bounds the directories held open between two requests of one
// listing, whatever the command lists at once.
const maxCursors = 1024

// cursor is a listing in progress: the open directory, the records read
// and not yet sent, and the offset the kernel asks for next. Reading on
// from where the last request stopped spares a seek, which makes ext4
// rebuild its hash order of the whole directory block by block.
type cursor struct {
	fd      int
	buf     []byte
	pending []byte
	next    uint64
	eof     bool
}

// list fills out with the entries of in.NodeId's directory from in.Offset
// (the host's own d_off cookies), each looked up for READDIRPLUS.
func (l *lister) list(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList, plus bool) fuse.Status {
	n := l.v.nodes.get(in.NodeId)
	if n == nil {
		return fuse.Status(unix.ESTALE)
	}
	if !n.isDir() {
		return fuse.ENOTDIR
	}
	if n.empty {
		return fuse.OK
	}
	n.listMu.Lock()
	defer n.listMu.Unlock()
	if in.Offset == 0 {
		// A new listing: what the last one found at its end may have
		// changed on the host since.
		n.eofKnown = false
		if plus {
			n.filesBare = !l.v.plus.files()
		}
	}
	if n.eofKnown && in.Offset == n.eofAt {
		// The request after the last entry: every listing ends with
		// one, and answering it needs no host directory.
		return fuse.OK
	}
	c := n.cursor
	if c == nil || c.next != in.Offset {
		l.closeCursor(n)
		var e syscall.Errno
		if c, e = l.openCursor(n, in.Offset); e == unix.EACCES {
			return fuse.OK // shown empty
		} else if e != 0 {
			return fuse.Status(e)
		}
	}
	st, done := l.fill(cancel, in, out, n, c, plus)
	if done && c.eof && st.Ok() {
		n.eofAt, n.eofKnown = c.next, true
	}
	if done || n.cursor == nil {
		// The end, or no room to keep it: the kernel's next request
		// (after the end, none) opens it again.
		if n.cursor == c {
			l.closeCursor(n)
		} else {
			c.closeFD()
		}
	}
	return st
}

// openCursor opens the node's directory at off, kept on the node while
// fewer than the mount's share of them are (view.cursorShare).
func (l *lister) openCursor(n *node, off uint64) (*cursor, syscall.Errno) {
	var fd int
	e := n.withDir(func(dir int) syscall.Errno {
		var err error
		fd, err = unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return errno(err)
	})
	if e != 0 {
		return nil, e
	}
	l.v.listOpens.Add(1)
	if off != 0 {
		if _, err := unix.Seek(fd, int64(off), unix.SEEK_SET); err != nil {
			unix.Close(fd)
			return nil, errno(err)
		}
	}
	c := &cursor{fd: fd, buf: direntBufs.Get().(*[direntBuf]byte)[:], next: off}
	if l.v.cursors.Add(1) <= l.v.cursorShare {
		n.cursor = c
	} else {
		l.v.cursors.Add(-1)
	}
	return c, 0
}

// closeCursor closes the node's kept listing, if any; n.listMu is held.
func (l *lister) closeCursor(n *node) {
	if n.cursor != nil {
		n.cursor.closeFD()
		n.cursor = nil
		l.v.cursors.Add(-1)
	}
}

// fill adds entries from c until out is full (done false) or the
// directory ends (done true).
func (l *lister) fill(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList, n *node, c *cursor, plus bool) (st fuse.Status, done bool) {
	added := false
	fail := func(st fuse.Status) (fuse.Status, bool) {
		if added {
			// The entries so far go out; the next request, from
			// the last one's offset, reads again and meets the error.
			return fuse.OK, true
		}
		return st, true
	}
	for {
		if len(c.pending) == 0 {
			if c.eof {
				return fuse.OK, true
			}
			size, err := unix.Getdents(c.fd, c.buf)
			if err != nil {
				return fail(fuse.ToStatus(err))
			}
			if size == 0 {
				c.eof = true
				return fuse.OK, true
			}
			c.pending = c.buf[:size]
		}
		d, ok := rootfs.ParseDirent(c.pending)
		if !ok {
			return fail(fuse.EIO)
		}
		name := d.Name
		if !validName(name) && name != "." && name != ".." || n.rules.child(name).is(absent) {
			c.pending, c.next = c.pending[d.Len:], d.Off
			continue
		}
		de := fuse.DirEntry{Name: name, Mode: uint32(d.Type) << 12, Off: d.Off, Ino: d.Ino}
		if !plus {
			if !out.AddDirEntry(de) {
				return fuse.OK, false // full: the kernel asks again from c.next
			}
		} else {
			entry := out.AddDirLookupEntry(de)
			if entry == nil {
				return fuse.OK, false
			}
			bare := n.filesBare && d.Type != unix.DT_DIR
			if bare && name != "." && name != ".." {
				n.listedBare.Store(true)
			}
			if name != "." && name != ".." && !bare { // listed, never looked up (node ID 0)
				// The bridge's own LOOKUP: it counts the kernel's new
				// reference, which a FORGET takes back.
				lookup := fuse.InHeader{NodeId: in.NodeId, Caller: in.Caller}
				if st := l.RawFileSystem.Lookup(cancel, &lookup, name, entry); !st.Ok() {
					*entry = fuse.EntryOut{} // gone meanwhile: listed, not linked
				}
			}
		}
		c.pending, c.next = c.pending[d.Len:], d.Off
		added = true
	}
}
