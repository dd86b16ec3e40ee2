package hostfs

import (
	"bytes"
	"encoding/binary"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
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

var direntBufs = sync.Pool{New: func() any { b := make([]byte, direntBuf); return &b }}

// list fills out with the entries of in.NodeId's directory from in.Offset
// (the host's own d_off cookies), each looked up for READDIRPLUS.
func (l *lister) list(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList, plus bool) fuse.Status {
	v, ok := l.v.nodes.Load(in.NodeId)
	if !ok {
		return fuse.Status(unix.ESTALE)
	}
	n := v.(*node)
	if !n.isDir() {
		return fuse.ENOTDIR
	}
	if n.empty {
		return fuse.OK
	}
	var fd int
	e := n.withDir(func(dir int) syscall.Errno {
		var err error
		fd, err = unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return errno(err)
	})
	if e == unix.EACCES {
		return fuse.OK // shown empty
	}
	if e != 0 {
		return fuse.Status(e)
	}
	defer unix.Close(fd)
	if in.Offset != 0 {
		if _, err := unix.Seek(fd, int64(in.Offset), unix.SEEK_SET); err != nil {
			return fuse.ToStatus(err)
		}
	}
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		size, err := unix.Getdents(fd, buf)
		if err != nil {
			return fuse.ToStatus(err)
		}
		if size == 0 {
			return fuse.OK
		}
		for rec := buf[:size]; len(rec) > 0; {
			d, ok := parseDirent(rec)
			if !ok {
				return fuse.EIO
			}
			rec = rec[d.reclen:]
			name := d.name
			if !validName(name) && name != "." && name != ".." || n.rules.child(name).is(absent) {
				continue
			}
			de := fuse.DirEntry{Name: name, Mode: uint32(d.typ) << 12, Off: d.off, Ino: d.ino}
			if !plus {
				if !out.AddDirEntry(de) {
					return fuse.OK // full: the kernel asks again from the last Off
				}
				continue
			}
			entry := out.AddDirLookupEntry(de)
			if entry == nil {
				return fuse.OK
			}
			if name == "." || name == ".." {
				continue // listed, never looked up (node ID 0)
			}
			// The bridge's own LOOKUP: it counts the kernel's new
			// reference, which a FORGET takes back.
			lookup := fuse.InHeader{NodeId: in.NodeId, Caller: in.Caller}
			if st := l.RawFileSystem.Lookup(cancel, &lookup, name, entry); !st.Ok() {
				*entry = fuse.EntryOut{} // gone meanwhile: listed, not linked
			}
		}
	}
}

// dirent is one record of getdents64: struct linux_dirent64.
type dirent struct {
	ino, off uint64
	reclen   int
	typ      uint8
	name     string
}

// parseDirent reads the record at the start of b, within its own length.
func parseDirent(b []byte) (dirent, bool) {
	const head = 19 // d_ino, d_off, d_reclen, d_type
	if len(b) < head {
		return dirent{}, false
	}
	d := dirent{
		ino:    binary.NativeEndian.Uint64(b[0:]),
		off:    binary.NativeEndian.Uint64(b[8:]),
		reclen: int(binary.NativeEndian.Uint16(b[16:])),
		typ:    b[18],
	}
	if d.reclen < head || d.reclen > len(b) {
		return dirent{}, false
	}
	name := b[head:d.reclen]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	d.name = string(name)
	return d, true
}
