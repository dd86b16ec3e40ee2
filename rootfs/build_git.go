package rootfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GitProtect is what the workdir's git protection covers, as found on the
// host before the run (gitprotect.Inspect).
type GitProtect struct {
	// Dirs are git directories under the workdir (its .git, submodules'),
	// each reached from the workdir without a symlink.
	Dirs []string
	// HooksPaths are core.hooksPath directories that lie in the workdir.
	HooksPaths []string
	// Files are `.git` files (gitdir: ...) in the workdir, bound
	// read-only: rewritten, one would point the host's git elsewhere.
	Files []string
}

// GitLayer is the overlay over one protected git directory: what the
// command wrote there is in Upper, and reaches the host's Dir only through
// the checked merge after the run (gitprotect.MergeBack).
type GitLayer struct {
	Dir   string `json:"dir"`
	Upper string `json:"upper"`
}

// gitDirsBoundFromHost are the parts of a git directory that hold no
// setting git acts on (objects, refs, reflogs): they stay the host's,
// read-write, so a fetch or a commit inside writes them in place instead of
// being copied back.
var gitDirsBoundFromHost = []string{"objects", "refs", "logs"}

// protectGit covers each protected git directory with an overlay of its
// own: git inside works as usual (`git config`, commits, fetches), but the
// host's config, HEAD, index and the rest stay untouched until sbx merges
// the changes back without the keys that run code. Its hooks stay the
// host's, read-only. A git directory is a mount point, so it cannot be
// renamed away and replaced.
func (b *builder) protectGit() {
	g := b.in.Git
	if g == nil {
		return
	}
	w := b.in.Spec.Workdir
	for _, dir := range g.Dirs {
		b.pinAncestors(w, w, dir)
		n := "git-" + strconv.Itoa(len(b.plan.Git))
		upper := b.in.State.Upper(n)
		b.add(Op{Kind: OpOverlay, Source: dir, Target: dir, Upper: upper, Work: b.in.State.Work(n), Beneath: w})
		b.plan.Git = append(b.plan.Git, GitLayer{Dir: dir, Upper: upper})
		for _, sub := range gitDirsBoundFromHost {
			if b.realDir(filepath.Join(dir, sub)) {
				p := filepath.Join(dir, sub)
				b.add(Op{Kind: OpBind, Source: p, Target: p, Beneath: w})
			}
		}
		// A hooks directory that is missing or a symlink is not bound:
		// whatever the command puts there stays in the overlay, and the
		// merge never takes hooks back.
		if hooks := filepath.Join(dir, "hooks"); b.realDir(hooks) {
			b.add(Op{Kind: OpBind, Source: hooks, Target: hooks, ReadOnly: true, Beneath: w})
		}
	}
	for _, p := range append(append([]string{}, g.HooksPaths...), g.Files...) {
		b.pinAncestors(w, w, p)
		b.add(Op{Kind: OpBind, Source: p, Target: p, ReadOnly: true, Beneath: w})
	}
}

// realDir reports whether host path p is a directory itself, not a symlink
// to one.
func (b *builder) realDir(p string) bool {
	fi, err := b.in.Host.Lstat(p)
	return err == nil && fi.Mode().Type() == fs.ModeDir
}

// pinAncestors binds every directory strictly between hostRoot and
// hostPath onto itself (at the matching path under insideRoot). A mount
// point cannot be renamed or removed, so the command cannot move a parent
// of a protected path aside and put a planted one in its place (`mv tools
// t; mkdir tools; cp trojan tools/sbx`). The directories are reached from
// hostRoot without following symlinks.
func (b *builder) pinAncestors(hostRoot, insideRoot, hostPath string) {
	rel, err := filepath.Rel(hostRoot, filepath.Dir(hostPath))
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return
	}
	if b.pinned == nil {
		b.pinned = map[string]bool{}
	}
	host, inside := hostRoot, insideRoot
	for _, part := range strings.Split(rel, "/") {
		host, inside = filepath.Join(host, part), filepath.Join(inside, part)
		if b.pinned[inside] {
			continue
		}
		b.pinned[inside] = true
		b.add(Op{Kind: OpBind, Source: host, Target: inside, Beneath: hostRoot, Optional: true})
	}
}

// MakeGitLayers creates the upper directory of each git overlay with the
// mode of the host's git directory (the overlay's root takes it).
func (s StateDir) MakeGitLayers(p *Plan) error {
	for _, l := range p.Git {
		mode := os.FileMode(0o755)
		if fi, err := os.Lstat(l.Dir); err == nil {
			mode = fi.Mode().Perm()
		}
		if err := os.Mkdir(l.Upper, mode); err != nil {
			return err
		}
		if err := os.Chmod(l.Upper, mode); err != nil {
			return err
		}
	}
	return nil
}
