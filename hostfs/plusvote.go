package hostfs

import "sync/atomic"

// READDIRPLUS may answer each entry with its attributes (the kernel then
// makes an inode and a dentry for it, and the server a node) or with the
// name alone (node ID 0: the kernel looks it up if it needs it). Which is
// cheaper depends on the command. A tree walk like find reads the type from
// the listing and never looks at a file: attributes for the 134,000 files
// of /usr are work on both sides for nothing, and the kernel tears each of
// those inodes down again at the end of the run. tar, ls -l, du and make
// stat every file they list: without attributes each costs a LOOKUP round
// trip of its own.
//
// So the view votes, as the kernel's own readdirplus_auto does per
// directory, but over the whole mount: a listing is a vote against file
// attributes, a LOOKUP of a file that a listing left bare is a vote for
// them. Directories always come with their attributes (a walk opens them).
// A walk that stats everything is given attributes again after one bare
// directory; a walk that only descends stops paying for them after a few
// listings. A verdict only changes how much work is done, never what the
// view shows.
type plusVote struct {
	score atomic.Int32
}

const (
	// voteMax bounds the score: a listing of a tree that stats its files
	// goes bare about once in voteMax listings, to see if it still does.
	voteMax = 16
	// voteStart favours attributes: a first ls -l gets them at once.
	voteStart = voteMax
	// voteLookup is what one file looked up after a bare listing adds.
	voteLookup = 4
)

func newPlusVote() *plusVote {
	v := &plusVote{}
	v.score.Store(voteStart)
	return v
}

// files reports whether the listing about to start sends the attributes
// of its files, and counts that listing against them.
func (p *plusVote) files() bool {
	return p.add(-1) >= 0
}

// wanted counts a LOOKUP of a file that a listing left without attributes.
func (p *plusVote) wanted() { p.add(voteLookup) }

// add moves the score by d within [-voteMax, voteMax], and returns the
// score before the move.
func (p *plusVote) add(d int32) int32 {
	for {
		old := p.score.Load()
		n := min(max(old+d, -voteMax), voteMax)
		if p.score.CompareAndSwap(old, n) {
			return old
		}
	}
}
