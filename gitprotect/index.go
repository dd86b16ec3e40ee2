package gitprotect

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// A git index that gains a submodule entry (a gitlink) makes the host's
// `git status` in the workdir run git inside that directory, whose
// repository and config the command wrote: a config key there would run on
// the host. So an index is taken back only if every gitlink in it was in
// the host's index already. This reads just enough of the index format
// (gitformat-index(5), versions 2 to 4) to list its gitlink paths.

const gitlinkMode = 0o160000

// gitlinks lists the paths of the gitlink entries of an index. It reads
// the entries as git does: the name's length from the entry's flags (all of
// it from the NUL only when the flags say 0xFFF or more). An index split
// in two (split index, the "link" extension) is refused: its entries live in
// a shared file of their own.
func gitlinks(index []byte) (map[string]bool, error) {
	if len(index) < 12 || !bytes.Equal(index[:4], []byte("DIRC")) {
		return nil, errors.New("not a git index")
	}
	version := binary.BigEndian.Uint32(index[4:8])
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("index version %d", version)
	}
	count := binary.BigEndian.Uint32(index[8:12])
	hashLen := indexHashLen(index)
	links := map[string]bool{}
	var prev []byte
	off := 12
	for i := uint32(0); i < count; i++ {
		fixed := 42 + hashLen // stat data, mode, sizes, object id, flags
		if off+fixed > len(index) {
			return nil, errors.New("index truncated")
		}
		start := off
		mode := binary.BigEndian.Uint32(index[off+24 : off+28])
		flags := binary.BigEndian.Uint16(index[off+fixed-2 : off+fixed])
		off += fixed
		if flags&0x4000 != 0 { // extended flags
			if version < 3 {
				return nil, errors.New("extended flags in a version 2 index")
			}
			off += 2
		}
		nameLen := int(flags & 0xfff)
		var path []byte
		if version == 4 {
			strip, n := binary.Uvarint(index[off:])
			if n <= 0 || strip > uint64(len(prev)) {
				return nil, errors.New("bad path prefix in index")
			}
			off += n
			end := bytes.IndexByte(index[off:], 0)
			if end < 0 {
				return nil, errors.New("index truncated")
			}
			kept := len(prev) - int(strip)
			if nameLen != 0xfff && kept+end != nameLen {
				return nil, errors.New("entry name length does not match its flags")
			}
			path = append(append([]byte{}, prev[:kept]...), index[off:off+end]...)
			off += end + 1
		} else {
			if nameLen == 0xfff {
				end := bytes.IndexByte(index[off:], 0)
				if end < 0 {
					return nil, errors.New("index truncated")
				}
				nameLen = end
			}
			if off+nameLen >= len(index) || index[off+nameLen] != 0 {
				return nil, errors.New("entry name length does not match its flags")
			}
			path = index[off : off+nameLen]
			// Entries are padded with NULs to a multiple of 8 bytes.
			off = start + (off+nameLen-start+8)&^7
		}
		if bytes.IndexByte(path, 0) >= 0 {
			return nil, errors.New("entry name holds a NUL")
		}
		prev = path
		if mode&0o170000 == gitlinkMode {
			links[string(path)] = true
		}
	}
	// Extensions follow the entries, up to the checksum.
	for off+8 <= len(index)-hashLen {
		sig := string(index[off : off+4])
		size := int(binary.BigEndian.Uint32(index[off+4 : off+8]))
		if sig == "link" {
			return nil, errors.New("a split index (its entries are in a shared index file)")
		}
		if size < 0 || off+8+size > len(index) {
			return nil, errors.New("index extension truncated")
		}
		off += 8 + size
	}
	return links, nil
}

// indexHashLen tells SHA-256 repositories (32-byte object ids) from SHA-1
// ones by the checksum that ends the index; an index written without one
// (index.skipHash) is read as SHA-1.
func indexHashLen(index []byte) int {
	if n := len(index) - sha256.Size; n > 12 {
		if sum := sha256.Sum256(index[:n]); bytes.Equal(sum[:], index[n:]) {
			return sha256.Size
		}
	}
	return sha1.Size
}

// newGitlinks lists the gitlinks of the sandbox's index that the host's
// lacks; an index that cannot be read counts as adding one.
func newGitlinks(host, sandbox []byte) ([]string, error) {
	after, err := gitlinks(sandbox)
	if err != nil {
		return nil, err
	}
	before := map[string]bool{}
	if len(host) > 0 {
		if before, err = gitlinks(host); err != nil {
			before = map[string]bool{}
		}
	}
	var added []string
	for p := range after {
		if !before[p] {
			added = append(added, p)
		}
	}
	return added, nil
}
