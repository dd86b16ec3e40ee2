package run

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/gitprotect"
	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
)

// gitGuard is --git-protect for one run: which git directories of the
// workdir are overlaid, descriptors of the host's ones taken before the
// command started, and, after the run, the checked merge of what the
// command wrote there.
type gitGuard struct {
	protect *rootfs.GitProtect
	hostFDs map[string]int // git directory → O_DIRECTORY descriptor
	root    string         // the workdir on the host, symlinks resolved
	// start is when the guard was made, before the overlays exist: what
	// the host changes in a git directory after it is not overwritten.
	start time.Time
	// missing are paths in the workdir the host's git config trusts that
	// do not exist yet: one the command makes is moved aside.
	missing []string
	// keepHost are, per git directory, the paths its merge leaves alone.
	keepHost map[string][]string
	// links are symlinks the host's git follows, put back as they were.
	links map[string]string
	// unsafe is set when something planted could not be taken away: sbx
	// then fails the run rather than leave it silently.
	unsafe bool
}

// newGitGuard inspects the workdir; nil when protection is off.
func newGitGuard(s *spec.Spec, home string) (*gitGuard, error) {
	if !s.GitProtect {
		return nil, nil
	}
	repo, err := gitprotect.Inspect(s.WorkdirSource, home)
	if err != nil {
		return nil, fmt.Errorf("--git-protect: %w; or run with --git-protect=off", err)
	}
	g := &gitGuard{
		protect: &rootfs.GitProtect{HooksPaths: repo.HooksPaths, Files: repo.GitFiles, Trusted: repo.Trusted,
			Missing: repo.MissingTrusted, Unpopulated: repo.Unpopulated},
		missing:  repo.MissingTrusted,
		links:    repo.KeptLinks,
		keepHost: repo.KeepHost,
		hostFDs:  map[string]int{},
		root:     s.WorkdirSource,
		start:    time.Now(),
	}
	for _, p := range repo.Unpopulated {
		fmt.Fprintf(os.Stderr, "sbx: %s is a submodule not initialised: read-only inside, so that no repository can be planted there for your git; run `git submodule update --init` before sbx, or use --git-protect=off\n", rootfs.QuotePath(p))
	}
	for _, dir := range repo.GitDirs {
		fd, err := rootfs.OpenBeneath(s.WorkdirSource, dir, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			g.close()
			return nil, fmt.Errorf("--git-protect: %w", err)
		}
		g.hostFDs[dir] = fd
		g.protect.Dirs = append(g.protect.Dirs, dir)
	}
	for _, p := range repo.Symlinked {
		if _, kept := repo.KeptLinks[p]; kept {
			continue // its target is protected, and the link put back
		}
		fmt.Fprintf(os.Stderr, "sbx: warning: %s is a symbolic link; sbx does not bind or protect anything through it\n", rootfs.QuotePath(p))
	}
	return g, nil
}

func (g *gitGuard) close() {
	if g == nil {
		return
	}
	for _, fd := range g.hostFDs {
		unix.Close(fd)
	}
	g.hostFDs = nil
}

// merge takes what the command wrote in each git directory back to the
// host, without hooks and code-running config keys, and says on stderr what
// it refused. Every process inside has ended. fuse says the overlays were
// fuse-overlayfs's, whose whiteouts are `.wh.` files.
func (g *gitGuard) merge(layers []rootfs.GitLayer, workdir string, fuse bool) []report.GitRefusal {
	if g == nil {
		return nil
	}
	defer g.close()
	refused := []report.GitRefusal{}
	for _, l := range layers {
		host, ok := g.hostFDs[l.Dir]
		if !ok {
			continue
		}
		upper, err := unix.Open(l.Upper, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sbx: git: cannot read the changes to %s: %v; the host's copy is unchanged\n", l.Dir, err)
			continue
		}
		res, err := gitprotect.MergeBackWith(upper, host, gitprotect.Options{Since: g.start, FuseWhiteouts: fuse, KeepHost: g.keepHost[l.Dir]})
		unix.Close(upper)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sbx: git: merging the changes to %s: %v\n", l.Dir, err)
		}
		rel, _ := filepath.Rel(workdir, l.Dir)
		for _, r := range res.Refused {
			r.Path = filepath.Join(rel, r.Path)
			refused = append(refused, report.GitRefusal{Path: r.Path, Key: r.Key, Reason: r.Reason})
			// Names and reasons come from the command's files: quoted,
			// they cannot forge lines or reach the terminal raw.
			if r.Key != "" {
				fmt.Fprintf(os.Stderr, "sbx: git: %s in %s not kept: with it, git on the host could run a program or act outside the repository\n", rootfs.QuotePath(r.Key), rootfs.QuotePath(r.Path))
			} else {
				fmt.Fprintf(os.Stderr, "sbx: git: %s not kept: %s\n", rootfs.QuotePath(r.Path), rootfs.QuotePath(r.Reason))
			}
		}
	}
	for link, target := range g.links {
		if r, ok := g.restoreLink(link, target); ok {
			refused = append(refused, r)
			fmt.Fprintf(os.Stderr, "sbx: git: %s not kept: %s\n", rootfs.QuotePath(r.Path), r.Reason)
		}
	}
	for _, p := range g.missing {
		if r, ok := g.moveAside(p, "a file your git's config trusts (it includes or runs it), which did not exist before the run"); ok {
			refused = append(refused, r)
			fmt.Fprintf(os.Stderr, "sbx: git: %s not kept: %s\n", rootfs.QuotePath(r.Path), r.Reason)
		}
	}
	for _, p := range g.protect.Unpopulated {
		if r, ok := g.defuseSubmodule(p); ok {
			refused = append(refused, r)
			fmt.Fprintf(os.Stderr, "sbx: git: %s not kept: %s\n", rootfs.QuotePath(r.Path), r.Reason)
		}
	}
	return refused
}

// defuseSubmodule moves aside a repository that the command made in a
// submodule directory that had none (one that did not exist could not be
// bound read-only): the host's git must not run it.
func (g *gitGuard) defuseSubmodule(dir string) (report.GitRefusal, bool) {
	return g.moveAside(filepath.Join(dir, ".git"), "a repository the command made in an uninitialised submodule")
}

// moveAside renames p, when the command made it, to p.sbx-untrusted, from
// a descriptor of its directory reached without symlinks.
func (g *gitGuard) moveAside(p, what string) (report.GitRefusal, bool) {
	fd, err := rootfs.OpenBeneath(g.root, filepath.Dir(p), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return report.GitRefusal{}, false
	}
	defer unix.Close(fd)
	name := filepath.Base(p)
	var st unix.Stat_t
	if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return report.GitRefusal{}, false
	}
	rel, _ := filepath.Rel(g.root, p)
	aside, err := renameAside(fd, name)
	if err != nil {
		g.unsafe = true
		return report.GitRefusal{Path: rel, Reason: what + ", and it could not be moved aside: " + err.Error() + "; REMOVE IT before you run git there"}, true
	}
	return report.GitRefusal{Path: rel, Reason: what + "; moved to " + aside}, true
}

// renameAside renames name in dir to a name of its own that is not taken
// (the command may have made the obvious one first).
func renameAside(dir int, name string) (string, error) {
	var err error
	for i := 0; i < 100; i++ {
		aside := name + ".sbx-untrusted"
		if i > 0 {
			aside = fmt.Sprintf("%s.sbx-untrusted-%d", name, i)
		}
		if err = unix.Renameat2(dir, name, dir, aside, unix.RENAME_NOREPLACE); err != unix.EEXIST {
			return aside, err
		}
	}
	return "", err
}

// restoreLink puts back a symlink the host's git follows when the command
// changed or replaced it: what it made there is moved aside first.
func (g *gitGuard) restoreLink(link, target string) (report.GitRefusal, bool) {
	rel, _ := filepath.Rel(g.root, link)
	fd, err := rootfs.OpenBeneath(g.root, filepath.Dir(link), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		g.unsafe = true
		return report.GitRefusal{Path: rel, Reason: "its directory cannot be reached without a symlink: " + err.Error()}, true
	}
	defer unix.Close(fd)
	name := filepath.Base(link)
	buf := make([]byte, 4096)
	if n, err := unix.Readlinkat(fd, name, buf); err == nil && string(buf[:n]) == target {
		return report.GitRefusal{}, false
	}
	if _, err := renameAside(fd, name); err != nil && err != unix.ENOENT {
		g.unsafe = true
		return report.GitRefusal{Path: rel, Reason: "a symlink your git follows was changed, and could not be moved aside: " + err.Error()}, true
	}
	if err := unix.Symlinkat(target, fd, name); err != nil {
		g.unsafe = true
		return report.GitRefusal{Path: rel, Reason: "a symlink your git follows was changed, and could not be put back: " + err.Error()}, true
	}
	return report.GitRefusal{Path: rel, Reason: "a symlink your git follows was changed; put back to " + target}, true
}
