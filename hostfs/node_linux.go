package hostfs

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// view is the state one mount shares.
type view struct {
	owners Owners
	// heldDirs counts the directory descriptors nodes keep; past
	// heldCap a directory is reopened from its parent's each time.
	heldDirs atomic.Int64
	// fdShare and cursorShare are this mount's parts of the process's
	// descriptors (fdlimit.ViewDirs, fdlimit.ViewListings).
	fdShare, cursorShare int64
	// live counts the nodes Lookup made that are not forgotten yet (the
	// top node is not counted): what FORGET must bring back to zero.
	live atomic.Int64
	// nodes finds a node by the kernel's node ID (its Ino, see
	// Options.ExternalNodeID), for the requests served without go-fuse's
	// tree (readdir_linux.go); lastID numbers them, / is 1.
	nodes  nodeTable
	lastID atomic.Uint64
	// cursors counts the listings kept open between requests.
	cursors atomic.Int64
	// plus decides whether listings send their files' attributes.
	plus *plusVote
	// listOpens counts the host directories listings opened (the tests
	// read it).
	listOpens atomic.Int64
}

// nodeTable finds nodes by node ID: a plain map, which the garbage
// collector walks faster than a sync.Map over a large tree.
type nodeTable struct {
	mu sync.RWMutex
	m  map[uint64]*node
}

func (t *nodeTable) get(id uint64) *node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[id]
}

func (t *nodeTable) put(id uint64, n *node) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[uint64]*node{}
	}
	t.m[id] = n
	t.mu.Unlock()
}

func (t *nodeTable) drop(id uint64) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

// maxHeldDirs bounds the descriptors the server holds, whatever the
// command walks: the kernel decides how many directories stay cached.
// A smaller limit on open descriptors lowers it (view.heldCap). A
// variable only so that tests can lower it.
var maxHeldDirs int64 = 16384

// heldCap is how many directory descriptors the nodes may keep.
func (v *view) heldCap() int64 { return min(maxHeldDirs, v.fdShare) }

// node is one host file or directory as the kernel knows it. It is reached
// from its parent's directory descriptor by name, without following a
// symlink, and keeps the host's identity of what it was looked up as: an
// object swapped in under the name since (a rename on the host) is
// refused, never served instead.
type node struct {
	fs.Inode
	v      *view
	parent *node // nil for /
	name   string
	rules  *rules
	st     unix.Stat_t
	empty  bool // served without entries or contents (Config.Empty)

	mu        sync.RWMutex
	dir       int  // O_PATH descriptor of a directory, or -1 until needed
	forgotten bool // OnForget ran: its descriptors are closed

	listMu sync.Mutex
	cursor *cursor // a listing in progress (readdir_linux.go), or nil
	// filesBare: the listing in progress leaves its files' attributes
	// out (plusvote.go). eofAt: the offset after the last entry, once a
	// listing has reached it (eofKnown).
	filesBare bool
	eofAt     uint64
	eofKnown  bool
	// listedBare: a listing left a file's attributes out, so a LOOKUP
	// of a file here counts for them.
	listedBare atomic.Bool
}

var (
	_ fs.NodeLookuper    = (*node)(nil)
	_ fs.NodeGetattrer   = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeReader      = (*node)(nil)
	_ fs.NodeFlusher     = (*node)(nil)
	_ fs.NodeReadlinker  = (*node)(nil)
	_ fs.NodeStatfser    = (*node)(nil)
	_ fs.NodeOnForgetter = (*node)(nil)
)

func (n *node) isDir() bool { return n.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// sameObject reports whether st is the object the node was looked up as.
func (n *node) sameObject(st *unix.Stat_t) bool {
	return st.Dev == n.st.Dev && st.Ino == n.st.Ino && st.Mode&unix.S_IFMT == n.st.Mode&unix.S_IFMT
}

// withDir runs f with a descriptor of the node's directory: the one it
// keeps, or one opened from its parent's for the call.
func (n *node) withDir(f func(dir int) syscall.Errno) syscall.Errno {
	n.mu.RLock()
	if n.dir >= 0 {
		defer n.mu.RUnlock()
		return f(n.dir)
	}
	n.mu.RUnlock()
	fd, e := n.openDir()
	if e != 0 {
		return e
	}
	n.mu.Lock()
	if n.dir < 0 && n.v.heldDirs.Add(1) <= n.v.heldCap() {
		n.dir, fd = fd, -1
	} else if n.dir < 0 {
		n.v.heldDirs.Add(-1)
	}
	n.mu.Unlock()
	if fd >= 0 {
		defer unix.Close(fd)
		return f(fd)
	}
	return n.withDir(f)
}

// openDir opens the node's directory from its parent's, O_PATH.
func (n *node) openDir() (int, syscall.Errno) {
	if !n.isDir() {
		return -1, syscall.ENOTDIR
	}
	return n.openAt(unix.O_PATH | unix.O_DIRECTORY)
}

// openSelf opens the node's own object with flags: a directory's O_PATH
// and / from the descriptor they keep, anything else from the parent's.
func (n *node) openSelf(flags int) (int, syscall.Errno) {
	if n.parent == nil || n.isDir() && flags&unix.O_PATH != 0 {
		var fd int
		e := n.withDir(func(dir int) syscall.Errno {
			var err error
			fd, err = unix.Openat(dir, ".", flags|unix.O_CLOEXEC, 0)
			return errno(err)
		})
		return fd, e
	}
	return n.openAt(flags)
}

// openAt opens the node's name in its parent's directory with flags
// (O_NOFOLLOW added) and checks that it is the object looked up.
func (n *node) openAt(flags int) (int, syscall.Errno) {
	var fd int
	e := n.parent.withDir(func(dir int) syscall.Errno {
		var err error
		fd, err = unix.Openat(dir, n.name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return errno(err)
	})
	if e != 0 {
		return -1, e
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || !n.sameObject(&st) {
		unix.Close(fd)
		return -1, syscall.ESTALE
	}
	return fd, 0
}

func (n *node) OnForget() {
	n.mu.Lock()
	gone := n.forgotten
	n.forgotten = true
	n.mu.Unlock()
	if gone {
		return
	}
	n.listMu.Lock()
	if n.cursor != nil {
		n.cursor.closeFD()
		n.cursor = nil
		n.v.cursors.Add(-1)
	}
	n.listMu.Unlock()
	n.mu.Lock()
	if n.dir >= 0 && n.parent != nil {
		unix.Close(n.dir)
		n.dir = -1
		n.v.heldDirs.Add(-1)
	}
	n.mu.Unlock()
	if n.parent != nil {
		n.v.live.Add(-1)
		n.v.nodes.drop(n.StableAttr().Ino)
	}
}

// revive reports whether a node found again under its name may serve the
// new lookup: not once OnForget has run (go-fuse may still hand it out
// while a FORGET races the LOOKUP). It is registered again, since a
// concurrent FORGET may have taken it out of the table.
func (n *node) revive() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.forgotten {
		return false
	}
	n.v.nodes.put(n.StableAttr().Ino, n)
	return true
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.empty || !validName(name) {
		return nil, syscall.ENOENT
	}
	r := n.rules.child(name)
	if r.is(absent) {
		return nil, syscall.ENOENT
	}
	child := &node{v: n.v, parent: n, name: name, rules: r, empty: r.is(empty), dir: -1}
	e := n.withDir(func(dir int) syscall.Errno {
		if err := unix.Fstatat(dir, name, &child.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return errno(err)
		}
		if !child.empty && child.isDir() && child.st.Dev != n.st.Dev {
			// A mount point: the host's kernel file systems (a procfs
			// elsewhere, a cgroup tree) are shown empty, never served.
			child.empty = kernelFS(dir, name)
		}
		return 0
	})
	if e != 0 {
		return nil, hiddenIfDenied(e)
	}
	child.attr(&child.st, &out.Attr)
	if !child.isDir() && n.listedBare.Load() {
		n.v.plus.wanted()
	}
	// The kernel looks a cached name up again to revalidate it (always
	// for a rename's target), and READDIRPLUS looks up every entry: the
	// same object under the same name must come back as the same node.
	// A new node ID makes the kernel drop its entry, and overlayfs, which
	// still holds that entry as the lower of a copied-up file, then fails
	// the call with ESTALE (sed -i after >>, dpkg's status file).
	if prev := n.GetChild(name); prev != nil {
		if p, ok := prev.Operations().(*node); ok && p.sameObject(&child.st) && p.empty == child.empty && p.revive() {
			return prev, 0
		}
	}
	n.v.live.Add(1)
	id := n.v.lastID.Add(1)
	n.v.nodes.put(id, child)
	return n.NewInode(ctx, child, fs.StableAttr{Mode: child.st.Mode, Ino: id}), 0
}

// hiddenIfDenied turns "permission denied" into "no such file": a directory
// the caller may not search is shown empty, so what the command writes
// there is its own.
func hiddenIfDenied(e syscall.Errno) syscall.Errno {
	if e == syscall.EACCES {
		return syscall.ENOENT
	}
	return e
}

// attr fills out from st, the host's attributes of the node, with owners
// mapped.
func (n *node) attr(st *unix.Stat_t, out *fuse.Attr) {
	*out = fuse.Attr{
		Size: uint64(st.Size), Blocks: uint64(st.Blocks), Blksize: uint32(st.Blksize),
		Atime: uint64(st.Atim.Sec), Atimensec: uint32(st.Atim.Nsec),
		Mtime: uint64(st.Mtim.Sec), Mtimensec: uint32(st.Mtim.Nsec),
		Ctime: uint64(st.Ctim.Sec), Ctimensec: uint32(st.Ctim.Nsec),
		Mode: st.Mode, Nlink: uint32(st.Nlink), Rdev: uint32(st.Rdev),
		Owner: fuse.Owner{Uid: n.v.owners.uid(st.Uid), Gid: n.v.owners.gid(st.Gid)},
	}
	if n.empty {
		out.Size, out.Blocks = 0, 0
		if n.isDir() {
			out.Nlink = 2
		}
	}
}

// Getattr answers with the host's attributes now. n.st stays what Lookup
// set: requests run concurrently and read it without a lock (its identity
// never changes, and the rest is only the lock-file case's size).
func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	st := n.st
	if !n.empty {
		var e syscall.Errno
		if n.isDir() {
			e = n.withDir(func(dir int) syscall.Errno { return errno(unix.Fstat(dir, &st)) })
		} else {
			e = n.parent.withDir(func(dir int) syscall.Errno {
				return errno(unix.Fstatat(dir, n.name, &st, unix.AT_SYMLINK_NOFOLLOW))
			})
		}
		if e != 0 {
			return e
		}
		if !n.sameObject(&st) {
			return syscall.ESTALE
		}
	}
	n.attr(&st, &out.Attr)
	return 0
}

// Open answers ENOSYS: the kernel then counts every open as done, never
// sends OPEN, FLUSH or RELEASE again, and keeps file contents cached
// across opens (FUSE's no-open). A compiler opens each header once per
// file it compiles: three round trips each, saved. Reads open the host
// file themselves.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, 0, syscall.ENOSYS
}

// Flush is never needed: nothing is written.
func (n *node) Flush(ctx context.Context, f fs.FileHandle) syscall.Errno {
	return syscall.ENOSYS
}

// Read reads the host file at off. A root-only empty file (a lock file)
// reads as empty: its content is known without opening it.
func (n *node) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if n.st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, syscall.EINVAL
	}
	if n.empty {
		return fuse.ReadResultData(nil), 0
	}
	// No O_NOATIME: the kernel refuses it for files the caller does not
	// own. O_NONBLOCK: a fifo swapped in under the name (refused by the
	// identity check) must not hang the open first.
	fd, e := n.openSelf(unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY)
	if e == syscall.EACCES && n.st.Size == 0 {
		return fuse.ReadResultData(nil), 0
	}
	if e != 0 {
		return nil, e
	}
	defer unix.Close(fd)
	got := 0
	for got < len(dest) {
		m, err := unix.Pread(fd, dest[got:], off+int64(got))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, errno(err)
		}
		if m == 0 {
			break
		}
		got += m
	}
	return fuse.ReadResultData(dest[:got]), 0
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if n.empty || n.parent == nil {
		return nil, syscall.EINVAL
	}
	buf := make([]byte, unix.PathMax)
	var m int
	e := n.parent.withDir(func(dir int) syscall.Errno {
		var err error
		if m, err = unix.Readlinkat(dir, n.name, buf); err != nil {
			return errno(err)
		}
		// The text of the link looked up, not of one swapped in.
		var st unix.Stat_t
		if err := unix.Fstatat(dir, n.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || !n.sameObject(&st) {
			return syscall.ESTALE
		}
		return 0
	})
	if e != 0 {
		return nil, e
	}
	return buf[:m], 0
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var st unix.Statfs_t
	e := n.withDir(func(dir int) syscall.Errno { return errno(unix.Fstatfs(dir, &st)) })
	if e == syscall.ENOTDIR || n.empty {
		top := n
		for top.parent != nil {
			top = top.parent
		}
		e = top.withDir(func(dir int) syscall.Errno { return errno(unix.Fstatfs(dir, &st)) })
	}
	if e != 0 {
		return e
	}
	*out = fuse.StatfsOut{
		Blocks: st.Blocks, Bfree: st.Bfree, Bavail: st.Bavail, Files: st.Files, Ffree: st.Ffree,
		Bsize: uint32(st.Bsize), NameLen: uint32(st.Namelen), Frsize: uint32(st.Frsize),
	}
	return 0
}

// errno is err as the kernel's number, EIO for anything else.
func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
