package gitprotect

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyKeepingHoles copies src to dst. A regular file is copied extent by
// extent (SEEK_DATA, SEEK_HOLE), so a sparse file the command made, which
// cost it nothing, costs the host's disk no more: a plain copy would write
// its holes out as zeros.
func copyKeepingHoles(dst *os.File, src io.Reader) error {
	f, ok := src.(*os.File)
	if !ok {
		_, err := io.Copy(dst, src)
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	size := st.Size
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if err == unix.ENXIO {
			break // only a hole is left
		}
		if err != nil {
			// No SEEK_DATA on this file system: copy it all.
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			_, err = io.Copy(dst, f)
			return err
		}
		hole, err := unix.Seek(int(f.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		if _, err := f.Seek(data, io.SeekStart); err != nil {
			return err
		}
		if _, err := dst.Seek(data, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.CopyN(dst, f, hole-data); err != nil {
			return err
		}
		off = hole
	}
	return dst.Truncate(size)
}
