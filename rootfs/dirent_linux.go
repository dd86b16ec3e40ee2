package rootfs

import (
	"bytes"
	"encoding/binary"
)

// Dirent is one record of getdents64 (struct linux_dirent64).
type Dirent struct {
	Ino, Off uint64
	Type     uint8
	Name     string
	Len      int // the record's length in the buffer
}

// ParseDirent reads the record at the start of b, within its own length.
func ParseDirent(b []byte) (Dirent, bool) {
	const nameOff = 19 // d_ino, d_off, d_reclen, d_type
	if len(b) < nameOff {
		return Dirent{}, false
	}
	d := Dirent{
		Ino:  binary.NativeEndian.Uint64(b[0:8]),
		Off:  binary.NativeEndian.Uint64(b[8:16]),
		Len:  int(binary.NativeEndian.Uint16(b[16:18])),
		Type: b[18],
	}
	if d.Len < nameOff || d.Len > len(b) {
		return Dirent{}, false
	}
	raw := b[nameOff:d.Len]
	if i := bytes.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	d.Name = string(raw)
	return d, true
}
