package gitprotect

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

type indexEntry struct {
	path string
	mode uint32
}

// makeIndex writes an index of the given version by gitformat-index(5).
func makeIndex(version uint32, entries []indexEntry) []byte {
	var b bytes.Buffer
	b.WriteString("DIRC")
	binary.Write(&b, binary.BigEndian, version)
	binary.Write(&b, binary.BigEndian, uint32(len(entries)))
	prev := ""
	for _, e := range entries {
		start := b.Len()
		fixed := make([]byte, 62)
		binary.BigEndian.PutUint32(fixed[24:], e.mode)
		binary.BigEndian.PutUint16(fixed[60:], uint16(min(len(e.path), 0xfff)))
		// (SHA-1 sized ids: without a SHA-256 checksum at the end the
		// index reads as SHA-1.)
		b.Write(fixed)
		if version == 4 {
			common := 0
			for common < len(prev) && common < len(e.path) && prev[common] == e.path[common] {
				common++
			}
			b.Write(binary.AppendUvarint(nil, uint64(len(prev)-common)))
			b.WriteString(e.path[common:])
			b.WriteByte(0)
		} else {
			b.WriteString(e.path)
			n := b.Len() - start
			b.Write(make([]byte, (n+8)&^7-n))
		}
		prev = e.path
	}
	return withChecksum(b.Bytes())
}

// withChecksum ends an index with the SHA-1 of what comes before, as git
// writes it.
func withChecksum(b []byte) []byte {
	sum := sha1.Sum(b)
	return append(b, sum[:]...)
}

func TestGitlinks(t *testing.T) {
	entries := []indexEntry{{"a.txt", 0o100644}, {"lib/sub", gitlinkMode}, {"lib/subway.c", 0o100755}, {"vendor/x", gitlinkMode}}
	for _, v := range []uint32{2, 3, 4} {
		got, err := gitlinks(makeIndex(v, entries), 20)
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		if want := map[string]bool{"lib/sub": true, "vendor/x": true}; !reflect.DeepEqual(got, want) {
			t.Errorf("version %d: gitlinks %v, want %v", v, got, want)
		}
	}
	for _, bad := range [][]byte{nil, []byte("DIRC"), []byte("XXXX\x00\x00\x00\x02\x00\x00\x00\x00"), makeIndex(2, entries)[:80]} {
		if _, err := gitlinks(bad, 20); err == nil {
			t.Errorf("gitlinks(%q): no error", bad)
		}
	}
}

func TestNewGitlinks(t *testing.T) {
	host := makeIndex(2, []indexEntry{{"a", 0o100644}, {"old", gitlinkMode}})
	sandbox := makeIndex(4, []indexEntry{{"a", 0o100644}, {"new", gitlinkMode}, {"old", gitlinkMode}})
	got, err := newGitlinks(host, sandbox, 20)
	if err != nil || !reflect.DeepEqual(got, []string{"new"}) {
		t.Errorf("newGitlinks = %v, %v; want [new]", got, err)
	}
	if got, _ := newGitlinks(sandbox, host, 20); len(got) != 0 {
		t.Errorf("a removed gitlink counts as new: %v", got)
	}
}

// TestGitlinksOfRealIndex reads an index that git itself wrote, in each
// version, when git is installed (CI installs it).
func TestGitlinksOfRealIndex(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		gap(t, "git is not installed (.ci/run installs it); TestGitlinks covers the format")
	}
	for _, format := range []string{"sha1", "sha256"} {
		t.Run(format, func(t *testing.T) { testRealIndex(t, format) })
	}
}

func testRealIndex(t *testing.T, format string) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "--object-format="+format)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "f")
	oid := "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	if format == "sha256" {
		oid = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"
	}
	git("update-index", "--add", "--cacheinfo", "160000,"+oid+",deps/lib")
	for _, v := range []string{"2", "3", "4"} {
		git("update-index", "--index-version", v)
		b, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
		if err != nil {
			t.Fatal(err)
		}
		n := 20
		if format == "sha256" {
			n = 32
		}
		got, err := gitlinks(b, n)
		if err != nil {
			t.Fatalf("version %s: %v", v, err)
		}
		var paths []string
		for p := range got {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		if !reflect.DeepEqual(paths, []string{"deps/lib"}) {
			t.Errorf("version %s: gitlinks %v, want [deps/lib]", v, paths)
		}
	}
}

// TestGitlinksLikeGit: the name's length comes from the flags, as git
// reads it, so a NUL placed early cannot hide an entry from the check; a
// split index is refused.
func TestGitlinksLikeGit(t *testing.T) {
	idx := makeIndex(2, []indexEntry{{"sub", gitlinkMode}})
	// Claim a longer name than the NUL allows.
	binary.BigEndian.PutUint16(idx[12+60:], 5)
	if _, err := gitlinks(idx, 20); err == nil {
		t.Error("a name length that disagrees with the NUL was accepted")
	}
	plain := makeIndex(2, []indexEntry{{"a", 0o100644}})
	body := plain[:len(plain)-20]
	for _, ext := range []string{"link", "EOIE", "IEOT"} {
		withExt := withChecksum(append(append([]byte{}, body...), []byte(ext+"\x00\x00\x00\x14"+strings.Repeat("\x00", 20))...))
		if _, err := gitlinks(withExt, 20); err == nil {
			t.Errorf("an index with the %s extension was accepted", ext)
		}
	}
	// Entries that do not end exactly at the checksum.
	if _, err := gitlinks(withChecksum(append(append([]byte{}, body...), 0, 0, 0)), 20); err == nil {
		t.Error("trailing bytes before the checksum were accepted")
	}
}

// TestGitlinksHashLengthFromConfig: the object id size is the host
// config's, whatever checksum the command put at the end (a SHA-1 index
// ending in a valid SHA-256 of itself must still be read as SHA-1).
func TestGitlinksHashLengthFromConfig(t *testing.T) {
	if hashLen([]byte("[extensions]\n\tobjectFormat = sha256\n")) != 32 || hashLen([]byte("[core]\n")) != 20 || hashLen(nil) != 20 {
		t.Error("hashLen")
	}
	idx := makeIndex(2, []indexEntry{{"a", 0o100644}, {"sub", gitlinkMode}})
	body := idx[:len(idx)-20]
	sum := sha256.Sum256(body)
	forged := append(append([]byte{}, body...), sum[:]...)
	links, err := gitlinks(forged, 20)
	if err == nil && !links["sub"] {
		t.Errorf("a SHA-256 checksum hid the gitlink: %v", links)
	}
}
