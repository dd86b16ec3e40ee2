package hostfs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// file is an open host file: reads only, spliced from its descriptor.
type file struct{ fd int }

var (
	_ fs.FileReader   = (*file)(nil)
	_ fs.FileReleaser = (*file)(nil)
)

func (f *file) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return fuse.ReadResultFd(uintptr(f.fd), off, len(dest)), 0
}

func (f *file) Release(ctx context.Context) syscall.Errno {
	unix.Close(f.fd)
	return 0
}

// emptyFile is a file served without contents.
type emptyFile struct{}

func (emptyFile) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return fuse.ReadResultData(nil), 0
}
