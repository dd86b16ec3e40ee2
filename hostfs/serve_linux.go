package hostfs

import (
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/internal/fdlimit"
)

// forever is how long the kernel may cache names, attributes and misses: the
// host's tree does not change under a run in a way the run must see, and
// every run is a new mount, so nothing outlives it.
const forever = 24 * time.Hour

// Server is one mount's server.
type Server struct {
	srv *fuse.Server
	dev *os.File
	top *node
}

// Serve serves the view of the host's / on dev, the /dev/fuse descriptor
// of a mount the sandbox made, until the mount goes away. It takes dev.
func Serve(dev *os.File, c Config) (*Server, error) {
	raw, top, err := newFS("/", c)
	if err != nil {
		dev.Close()
		return nil, err
	}
	opts := mountOptions()
	// go-fuse serves a descriptor someone else mounted when given
	// /dev/fd/N as the mount point.
	srv, err := fuse.NewServer(raw, fmt.Sprintf("/dev/fd/%d", dev.Fd()), opts)
	if err != nil {
		dev.Close()
		unix.Close(top.dir)
		return nil, err
	}
	go srv.Serve()
	return &Server{srv: srv, dev: dev, top: top}, nil
}

// newFS is the view of the directory root (the host's /, or a test's tree)
// as go-fuse's raw file system, and its top node.
func newFS(root string, c Config) (fuse.RawFileSystem, *node, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	v := &view{
		owners: c.Owners, plus: newPlusVote(),
		fdShare:     fdlimit.Share(maxHeldDirs, fdlimit.ViewDirs, 16),
		cursorShare: fdlimit.Share(maxCursors, fdlimit.ViewListings, 4),
	}
	v.lastID.Store(fuse.FUSE_ROOT_ID)
	top := &node{v: v, rules: newRules(c), dir: fd}
	if err := unix.Fstat(fd, &top.st); err != nil {
		unix.Close(fd)
		return nil, nil, err
	}
	t := forever
	opts := &fs.Options{
		EntryTimeout: &t, AttrTimeout: &t, NegativeTimeout: &t,
		MountOptions: *mountOptions(),
		Logger:       log.New(io.Discard, "", 0),
		// The node's Ino is the kernel's node ID: the listings (see
		// lister) find a directory's node by it.
		ExternalNodeID: true,
		RootStableAttr: &fs.StableAttr{Ino: fuse.FUSE_ROOT_ID},
	}
	v.nodes.put(fuse.FUSE_ROOT_ID, top)
	return &lister{RawFileSystem: fs.NewNodeFS(top, opts), v: v}, top, nil
}

func mountOptions() *fuse.MountOptions {
	return &fuse.MountOptions{
		FsName:                   "sbx-host",
		Name:                     "sbx",
		EnableSymlinkCaching:     true,
		ExplicitDataCacheControl: true,
		MaxBackground:            64,
		// Reads of up to 1 MiB: a shared library or a compiler in a few
		// round trips rather than one per 128 KiB.
		MaxWrite:     1 << 20,
		MaxReadAhead: 1 << 20,
		// No extended attributes: overlayfs asks its lower layers for
		// its own (user.overlay.*) on every directory, a round trip each,
		// and one set on a host file the caller owns would change what
		// the sandbox sees. Without them the kernel stops asking.
		DisableXAttrs: true,
		// Replies come from memory (ReadResultData). With splicing on,
		// go-fuse first tries each one through a pipe: it grows the
		// pipe, writes the header into it, finds no descriptor to splice
		// from, drains the pipe into /dev/null and only then writes the
		// reply, four system calls more per READ for nothing.
		DisableSplice: true,
		Logger:        log.New(io.Discard, "", 0),
	}
}

// Close releases the server's descriptors once the sandbox is gone (its
// mount went with the sandbox's mount namespace). The directories other
// nodes keep close with the process: releasing them one by one took 30 ms
// after a walk of /usr, and their share of the limit (fdlimit) leaves the
// clean-up of the run's state the descriptors it needs.
func (s *Server) Close() {
	s.dev.Close()
	s.top.OnForget() // a listing of / it may keep
	unix.Close(s.top.dir)
	s.top.dir = -1
}
