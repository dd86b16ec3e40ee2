package vm

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// cpioWriter writes the "newc" cpio format, the one the kernel unpacks an
// initramfs from. Written here rather than by cpio(1) so that every entry
// is owned by root with the mode asked for, and device nodes exist, even
// when the caller is not root and the files on disk are the caller's.
//
// A newc entry is a 110-byte ASCII header ("070701" and 13 fields of 8 hex
// digits), the name with its NUL, padding to 4 bytes, the data, padding to
// 4 bytes. A "TRAILER!!!" entry ends the archive.
type cpioWriter struct {
	w    io.Writer
	ino  uint32
	off  int64
	dirs map[string]bool
	err  error
}

func newCPIO(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, dirs: map[string]bool{"": true}}
}

// Mode bits of the file type, as cpio (and stat) spell them.
const (
	cpioDir  = 0o040000
	cpioReg  = 0o100000
	cpioLink = 0o120000
	cpioChr  = 0o020000
)

// Dir adds a directory, and any missing parent directories (0755).
func (c *cpioWriter) Dir(name string, perm fs.FileMode) {
	name = clean(name)
	if c.dirs[name] {
		return
	}
	c.parents(name)
	c.dirs[name] = true
	c.entry(name, cpioDir|unixPerm(perm), 2, 0, 0, nil)
}

// File adds a regular file holding data.
func (c *cpioWriter) File(name string, perm fs.FileMode, data []byte) {
	name = clean(name)
	c.parents(name)
	c.entry(name, cpioReg|unixPerm(perm), 1, 0, 0, data)
}

// Symlink adds a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) {
	name = clean(name)
	c.parents(name)
	c.entry(name, cpioLink|0o777, 1, 0, 0, []byte(target))
}

// CharDev adds a character device node, which the kernel creates with
// mknod as it unpacks (no privilege needed here).
func (c *cpioWriter) CharDev(name string, perm fs.FileMode, major, minor uint32) {
	name = clean(name)
	c.parents(name)
	c.entry(name, cpioChr|unixPerm(perm), 1, major, minor, nil)
}

// Close writes the trailer. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	c.entry("TRAILER!!!", 0, 1, 0, 0, nil)
	return c.err
}

func (c *cpioWriter) parents(name string) {
	if dir := path.Dir(name); dir != "." {
		c.Dir(dir, 0o755)
	}
}

// clean makes name relative, as the kernel expects ("bin/sh", not "/bin/sh").
func clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// unixPerm is perm as the low 12 bits of a Unix mode: Go keeps the
// set-id and sticky bits elsewhere.
func unixPerm(perm fs.FileMode) uint32 {
	m := uint32(perm.Perm())
	if perm&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if perm&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if perm&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

func (c *cpioWriter) entry(name string, mode, nlink, rmaj, rmin uint32, data []byte) {
	if c.err != nil {
		return
	}
	if name == "" {
		c.err = fmt.Errorf("cpio: an entry without a name")
		return
	}
	c.ino++
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmaj, rmin, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad()
	c.write(data)
	c.pad()
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.off += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if r := c.off % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}
