package hostfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// walkTree is dirs directories of files files each, and one subdirectory
// each, the shape of a tree a walk descends.
func walkTree(t *testing.T, dirs, files int) string {
	t.Helper()
	root := t.TempDir()
	for i := range dirs {
		d := filepath.Join(root, fmt.Sprintf("d%03d", i))
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range files {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%02d", j)), []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// listing is one READDIRPLUS listing of a directory: the node IDs of its
// files and of its directories, by name.
func (v *tfs) listing(id uint64) (files, dirs map[string]uint64) {
	v.t.Helper()
	names, ids, st := v.readdirplus(id)
	if !st.Ok() {
		v.t.Fatalf("READDIRPLUS of node %d: %v", id, st)
	}
	files, dirs = map[string]uint64{}, map[string]uint64{}
	for i, n := range names {
		if n == "sub" {
			dirs[n] = ids[i]
		} else {
			files[n] = ids[i]
		}
	}
	return files, dirs
}

func attributed(ids map[string]uint64) int {
	n := 0
	for _, id := range ids {
		if id != 0 {
			n++
		}
	}
	return n
}

// A walk that only descends (find) stops being given its files'
// attributes after a few listings, while directories keep theirs; a
// command that then looks files up (tar, ls -l) gets them again from the
// next listing. Without the vote every listing carries every file's
// attributes, and the server and the kernel make a node for each.
func TestListingsVoteOnFileAttributes(t *testing.T) {
	const dirs, files = 3 * voteMax, 8
	v := newTestFS(t, walkTree(t, dirs, files), Config{})
	ids := make([]uint64, dirs)
	for i := range dirs {
		ids[i] = v.mustLookup(rootID, fmt.Sprintf("d%03d", i))
	}

	// A descending walk: the first listings carry the files' attributes,
	// the later ones none; every listing carries its directory's.
	var bare int
	for i := range 2 * voteMax {
		f, d := v.listing(ids[i])
		if attributed(d) != 1 {
			t.Fatalf("listing %d: the subdirectory came without attributes", i)
		}
		switch attributed(f) {
		case 0:
			bare++
		case files:
			if bare > 0 {
				t.Fatalf("listing %d: files attributed again with no lookup since listing bare", i)
			}
		default:
			t.Fatalf("listing %d: %d of %d files attributed", i, attributed(f), files)
		}
	}
	if first := 2*voteMax - bare; bare == 0 || first > voteMax+1 {
		t.Fatalf("a descending walk: %d of %d listings bare; want all after the first %d", bare, 2*voteMax, voteMax+1)
	}
	liveAfterWalk := v.live()

	// A stat of the files of the last, bare listing: the next listing
	// carries attributes again.
	last := ids[2*voteMax-1]
	for j := range files {
		v.mustLookup(last, fmt.Sprintf("f%02d", j))
	}
	f, _ := v.listing(ids[2*voteMax])
	if attributed(f) != files {
		t.Fatalf("after %d lookups of bare-listed files, the next listing attributed %d of %d files", files, attributed(f), files)
	}

	// What the bare listings spared: nodes only for the attributed files,
	// the directories and the lookups.
	if want := int64((2*voteMax-bare)*files + 2*voteMax + dirs); liveAfterWalk > want {
		t.Errorf("%d nodes live after the walk, want at most %d", liveAfterWalk, want)
	}
}

// The request after a listing's last entry, which ends every listing, is
// answered without opening the host's directory again.
func TestListingEndNeedsNoHostDirectory(t *testing.T) {
	v := newTestFS(t, walkTree(t, 1, 100), Config{})
	d := v.mustLookup(rootID, "d000")
	names, _, next, st := v.readdirplusAt(d, 0, 0, 64*1024)
	if !st.Ok() || len(names) != 103 { // 100 files, sub, . and ..
		t.Fatalf("first request: %d names, %v", len(names), st)
	}
	opens := v.top.v.listOpens.Load()
	names, _, _, st = v.readdirplusAt(d, 0, next, 64*1024)
	if !st.Ok() || len(names) != 0 {
		t.Fatalf("request after the end: %v, %v", names, st)
	}
	if got := v.top.v.listOpens.Load() - opens; got != 0 {
		t.Errorf("the request after the end opened the host directory %d times", got)
	}
	// A listing from the start still reads the host's directory.
	names, _, _, st = v.readdirplusAt(d, 0, 0, 64*1024)
	if !st.Ok() || len(names) != 103 || v.top.v.listOpens.Load() == opens {
		t.Errorf("a second listing from the start: %d names, %v, opens %d", len(names), st, v.top.v.listOpens.Load()-opens)
	}
	// And forgets where the last one ended until it reaches its own end:
	// the host may have added entries after that offset meanwhile.
	n := v.top.v.nodes.get(d)
	if names, _, _, st = v.readdirplusAt(d, 0, 0, 256); !st.Ok() || len(names) == 0 || len(names) > 3 {
		t.Fatalf("a short first request: %d names, %v", len(names), st)
	}
	if n.eofKnown {
		t.Errorf("a listing that has not reached its end yet answers at the last one's end without the host")
	}
}

func TestPlusVoteBounds(t *testing.T) {
	p := newPlusVote()
	for range 10 * voteMax {
		p.files()
	}
	if got := p.score.Load(); got != -voteMax {
		t.Fatalf("score after many listings %d, want %d", got, -voteMax)
	}
	for range 10 * voteMax {
		p.wanted()
	}
	if got := p.score.Load(); got != voteMax {
		t.Fatalf("score after many lookups %d, want %d", got, voteMax)
	}
}
