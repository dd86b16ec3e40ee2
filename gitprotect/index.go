package gitprotect

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
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
func gitlinks(index []byte, hashLen int) (map[string]bool, error) {
	if len(index) < 12 || !bytes.Equal(index[:4], []byte("DIRC")) {
		return nil, errors.New("not a git index")
	}
	version := binary.BigEndian.Uint32(index[4:8])
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("index version %d", version)
	}
	count := binary.BigEndian.Uint32(index[8:12])
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
	// Extensions follow the entries and end exactly at the checksum.
	end := len(index) - hashLen
	for off < end {
		if off+8 > end {
			return nil, errors.New("index extension truncated")
		}
		sig := string(index[off : off+4])
		size := int(binary.BigEndian.Uint32(index[off+4 : off+8]))
		switch sig {
		case "link":
			return nil, errors.New("a split index (its entries are in a shared index file)")
		case "EOIE", "IEOT":
			// They let git read the entries in blocks, each with a
			// path prefix of its own: read otherwise than here.
			return nil, fmt.Errorf("an index with the %s extension", sig)
		}
		if size < 0 || off+8+size > end {
			return nil, errors.New("index extension truncated")
		}
		off += 8 + size
	}
	if off != end {
		return nil, errors.New("index entries run into its checksum")
	}
	return links, nil
}

// hashLen is the size of an object id in a repository whose config is
// config: 32 bytes with extensions.objectFormat = sha256, else 20. It
// comes from the host's config, never from the index the command wrote.
func hashLen(config []byte) int {
	entries, err := Parse(config)
	if err != nil {
		return sha1.Size
	}
	n := sha1.Size
	for _, e := range entries {
		if e.Key() == "extensions.objectformat" && strings.EqualFold(e.Value, "sha256") {
			n = sha256.Size
		}
	}
	return n
}

// newGitlinks lists the gitlinks of the sandbox's index that the host's
// lacks; an index that cannot be read counts as adding one.
func newGitlinks(host, sandbox []byte, hashLen int) ([]string, error) {
	after, err := gitlinks(sandbox, hashLen)
	if err != nil {
		return nil, err
	}
	before := map[string]bool{}
	if len(host) > 0 {
		if before, err = gitlinks(host, hashLen); err != nil {
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
