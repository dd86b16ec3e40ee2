package gitprotect

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	maxConfigSize = 4 << 20 // far above any real config; bounds what is parsed
	maxSmallFile  = 1 << 20
	maxIndexSize  = 1 << 30 // a large monorepo's index is a few hundred MiB
)

// file merges one regular file of the current upper directory.
func (m *merger) file(name, rel string, st *unix.Stat_t) {
	perm := uint32(st.Mode) & 0o777 // never setuid, setgid or sticky
	atTop := len(m.stack) == 1
	switch {
	case name == "commondir" && atTop:
		// It would move objects, refs and config out of G to anywhere.
		m.refuse(rel, "commondir at the top of the git dir")
	case name == "commondir":
		data, err := readSmall(m.upper, name, maxSmallFile)
		if err != nil {
			m.refuse(rel, err.Error())
			return
		}
		// What `git worktree add` writes: the linked worktree shares G.
		if strings.TrimSpace(string(data)) != "../.." {
			m.refuse(rel, "commondir pointing elsewhere than ../..")
			return
		}
		m.write(name, rel, bytes.NewReader(data), perm)
	case name == "config" || name == "config.worktree":
		m.config(name, rel, perm)
	case name == "index":
		m.index(name, rel, perm)
	case strings.HasPrefix(name, "sharedindex."):
		// A split index's entries: not read here (see gitlinks), so a
		// submodule entry could hide in one.
		m.refuse(rel, "split index not taken back; run `git update-index --no-split-index` inside, or on the host")
	default:
		src, err := openRegular(m.upper, name)
		if err != nil {
			m.refuse(rel, err.Error())
			return
		}
		defer src.Close()
		m.write(name, rel, src, perm)
	}
}

// index writes back the command's index unless it gains a submodule
// entry (see gitlinks).
func (m *merger) index(name, rel string, perm uint32) {
	sandbox, err := readSmall(m.upper, name, maxIndexSize)
	if err != nil {
		m.refuse(rel, err.Error())
		return
	}
	host, _, err := m.hostVersion(name, maxIndexSize)
	if err != nil {
		m.refuse(rel, "host's version: "+err.Error())
		return
	}
	config, _, err := m.hostVersion("config", maxConfigSize)
	if err != nil {
		m.refuse(rel, "host's config: "+err.Error())
		return
	}
	added, err := newGitlinks(host, sandbox, hashLen(config))
	switch {
	case err != nil:
		m.refuse(rel, "host's index kept: "+err.Error())
	case len(added) > 0:
		sort.Strings(added)
		m.refuse(rel, "host's index kept: it adds the submodule "+strings.Join(added, ", ")+", whose repository the command made; add it again on the host")
	default:
		m.write(name, rel, bytes.NewReader(sandbox), perm)
	}
}

// config writes back the command's config with code-running entries the
// host lacked taken out.
func (m *merger) config(name, rel string, perm uint32) {
	sandbox, err := readSmall(m.upper, name, maxConfigSize)
	if err != nil {
		m.refuse(rel, err.Error())
		return
	}
	host, hostExists, err := m.hostVersion(name, maxConfigSize)
	if err != nil {
		m.refuse(rel, "host's version: "+err.Error())
		return
	}
	out, keys, err := filterConfig(host, sandbox)
	if err != nil {
		m.refuse(rel, "host's file kept: "+err.Error())
		return
	}
	for _, k := range keys {
		m.res.Refused = append(m.res.Refused, Refusal{Path: rel, Key: k, Reason: "runs code on the host"})
	}
	if hostExists && bytes.Equal(out, host) {
		return
	}
	m.write(name, rel, bytes.NewReader(out), perm)
}

// hostVersion reads the host's current file name; a missing one, or one
// that is not a regular file (a symlink is never followed), reads empty.
func (m *merger) hostVersion(name string, limit int64) ([]byte, bool, error) {
	st, err := lstatAt(m.host, name)
	if err == unix.ENOENT || err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	data, err := readSmall(m.host, name, limit)
	return data, err == nil, err
}

// write puts src at name in the current host directory: into a fresh
// temporary file first, renamed over name once complete, so host git never
// reads a half-written file and a symlink at name is replaced, not
// followed.
func (m *merger) write(name, rel string, src io.Reader, perm uint32) {
	if m.changedOnHost(name) {
		m.refuse(rel, changedMeanwhile)
		return
	}
	if st, err := lstatAt(m.host, name); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if m.dirHoldsHooks(name) {
			m.refuse(rel, "not replaced by a file: the directory holds hooks, which stay")
			return
		}
		if _, err := removeAll(m.host, name); err != nil {
			m.refuse(rel, "replace directory: "+err.Error())
			return
		}
	}
	tmp, fd, err := createTemp(m.host, perm)
	if err != nil {
		m.refuse(rel, "create: "+err.Error())
		return
	}
	dst := os.NewFile(uintptr(fd), tmp)
	err = copyKeepingHoles(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(m.host, tmp, m.host, name)
	}
	if err != nil {
		unix.Unlinkat(m.host, tmp, 0)
		m.refuse(rel, "write: "+err.Error())
		return
	}
	m.res.Applied++
}

// changedMeanwhile is the reason for a change refused by MergeBackSince.
const changedMeanwhile = "changed on the host during the run (by your git or another run); the run's version is not kept"

func createTemp(dir int, perm uint32) (string, int, error) {
	for range 16 {
		name := fmt.Sprintf(".sbx-merge-%016x", rand.Uint64())
		fd, err := openBeneath(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, perm)
		if err == unix.EEXIST {
			continue
		}
		return name, fd, err
	}
	return "", -1, unix.EEXIST
}
