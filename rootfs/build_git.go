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
	// Trusted are files and directories in the workdir that the host's
	// git trusts through its config (included files, programs), bound
	// read-only.
	Trusted []string
	// Missing are paths the host's git trusts that do not exist yet: the
	// directories that lead to them are pinned, so that what the command
	// makes there is found where git would look, and moved aside.
	Missing []string
	// Unpopulated are submodule directories with no repository yet,
	// bound read-only where they exist, so the command cannot plant one
	// that the host's `git status` would run.
	Unpopulated []string
}

// GitLayer is the overlay over one protected git directory: what the
// command wrote there is in Upper, and reaches the host's Dir only through
// the checked merge after the run (gitprotect.MergeBack).
type GitLayer struct {
	Dir   string `json:"dir"`
	Upper string `json:"upper"`
}

// protectGit covers each protected git directory with an overlay of its
// own: git inside works as usual (`git config`, commits, fetches), but the
// host's git directory stays untouched until sbx merges the changes back
// without what could run code. Nothing of it but its hooks is bound from
// the host, read-only: a symlink planted in a directory bound read-write
// (refs, logs, objects/info/commit-graphs) would be followed by the host's
// git. A git directory is a mount point, so it cannot be renamed away and
// replaced. Where a read-write --bind shows it too, the same protected view
// is bound there. Then what the host's git config trusts (GitProtect) is
// made read-only wherever it shows, its parents pinned.
func (b *builder) protectGit() {
	g := b.in.Git
	if g == nil {
		return
	}
	areas := b.writableAreas()
	w := areas[0]
	for _, dir := range g.Dirs {
		inside, ok := w.inside(dir)
		if !ok {
			continue
		}
		b.pinAncestors(w.host, w.target, dir)
		n := "git-" + strconv.Itoa(len(b.plan.Git))
		upper := b.in.State.Upper(n)
		b.guard(Op{Kind: OpOverlay, Source: dir, Target: inside, Upper: upper, Work: b.in.State.Work(n), Beneath: w.host})
		b.plan.Git = append(b.plan.Git, GitLayer{Dir: dir, Upper: upper})
		// A hooks directory that is missing or a symlink is not bound:
		// whatever the command puts there stays in the overlay, and the
		// merge never takes hooks back.
		if hooks := filepath.Join(dir, "hooks"); b.realDir(hooks) {
			b.guard(Op{Kind: OpBind, Source: hooks, Target: filepath.Join(inside, "hooks"), ReadOnly: true, Beneath: w.host})
		}
		for _, a := range areas[1:] {
			if other, ok := a.inside(dir); ok && other != inside {
				b.pinAncestors(a.host, a.target, dir)
				b.guard(Op{Kind: OpBind, Source: inside, Target: other, InRoot: true})
			}
		}
	}
	for _, p := range g.Missing {
		for _, a := range areas {
			if _, ok := a.inside(p); ok {
				b.pinAncestors(a.host, a.target, p)
			}
		}
	}
	readOnly := append(append(append([]string{}, g.HooksPaths...), g.Files...), g.Trusted...)
	for _, p := range g.Unpopulated {
		if b.realDir(p) {
			readOnly = append(readOnly, p)
		}
	}
	for _, p := range readOnly {
		for _, a := range areas {
			if t, ok := a.inside(p); ok {
				b.pinAncestors(a.host, a.target, p)
				b.guard(Op{Kind: OpBind, Source: p, Target: t, ReadOnly: true, Beneath: a.host})
			}
		}
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

// guard queues a protecting mount. Protections go on after every pin
// (pinAncestors): a pin is a bind of a directory onto itself, and one made
// over a protection already in place would cover it.
func (b *builder) guard(op Op) { b.guarded = append(b.guarded, op) }

// protect adds the protections: the git directories, sbx's binary and the
// run's state, wherever the workdir or a read-write bind shows them, pins
// first.
func (b *builder) protect() {
	b.protectGit()
	b.protectSelf()
	b.hideState()
	b.plan.Ops = append(b.plan.Ops, b.guarded...)
	b.guarded = nil
}
