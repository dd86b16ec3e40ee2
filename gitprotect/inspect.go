//go:build linux

package gitprotect

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Repo is what of a workdir's git state needs protecting. All paths are
// absolute and clean.
type Repo struct {
	// GitDirs are the git dirs reached from the workdir without a symlink:
	// W/.git, W/X/.git of each submodule path X in W/.gitmodules, and the
	// target of a `.git` file when it lies in W outside those.
	GitDirs []string
	// HooksPaths are core.hooksPath values of those git dirs that lie in
	// the workdir. They may not exist yet: the command must not be able to
	// create them either.
	HooksPaths []string
	// GitFiles are `.git` files (gitdir: ...) of the workdir and of its
	// submodules: rewritten, one would point the host's git at a
	// repository the command made.
	GitFiles []string
	// Unpopulated are submodule paths of W/.gitmodules with no `.git` yet
	// (the submodule is not initialised; the directory may be missing):
	// a repository the command made there would be run by the host's
	// `git status` in the superproject.
	Unpopulated []string
	// Symlinked are candidates (git dirs, their hooks, objects, refs and
	// logs, hooks paths) that exist but are a symlink or lie under one:
	// nothing is bound through them.
	Symlinked []string
}

// boundInGitDir are the parts of a git dir the sandbox binds from the host.
var boundInGitDir = []string{"hooks", "objects", "refs", "logs"}

// Inspect finds the git dirs under workdir that need protecting. home
// resolves `~/` in core.hooksPath. A config or .gitmodules that cannot be
// parsed is an error: its hooks path or submodules would go unprotected.
func Inspect(workdir, home string) (Repo, error) {
	root, err := filepath.Abs(workdir)
	if err != nil {
		return Repo{}, fmt.Errorf("gitprotect: inspect: %w", err)
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Repo{}, fmt.Errorf("gitprotect: inspect %s: %w", root, err)
	}
	defer unix.Close(fd)
	in := &inspector{root: root, fd: fd, home: home, seen: map[string]bool{}}
	if err := in.run(); err != nil {
		return Repo{}, fmt.Errorf("gitprotect: inspect %s: %w", root, err)
	}
	return in.repo, nil
}

type inspector struct {
	root string
	fd   int
	home string
	repo Repo
	seen map[string]bool // paths already listed, in any list
}

// gitDir is a git dir found, and the work tree its relative paths are
// relative to; both relative to the workdir.
type gitDir struct{ dir, worktree string }

func (in *inspector) run() error {
	var found []gitDir
	found = in.dotGit(found, ".git", ".")
	subs, err := in.submodulePaths()
	if err != nil {
		return err
	}
	for _, x := range subs {
		if in.kind(x+"/.git") == 0 && in.kind(x) != unix.S_IFLNK {
			in.repo.Unpopulated = append(in.repo.Unpopulated, filepath.Join(in.root, x))
			continue
		}
		found = in.dotGit(found, x+"/.git", x)
	}
	for _, g := range found {
		if err := in.hooksPaths(g); err != nil {
			return err
		}
	}
	return nil
}

// dotGit looks at rel, a `.git` of the work tree worktree.
func (in *inspector) dotGit(found []gitDir, rel, worktree string) []gitDir {
	switch in.kind(rel) {
	case unix.S_IFDIR:
		return in.addGitDir(found, gitDir{rel, worktree})
	case unix.S_IFREG:
		in.repo.GitFiles = append(in.repo.GitFiles, filepath.Join(in.root, rel))
		data, err := readSmall(in.fd, rel, 4096)
		if err != nil {
			return found
		}
		line, _, _ := strings.Cut(string(data), "\n")
		target, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
		if !ok {
			return found
		}
		target = strings.TrimSpace(target)
		if !filepath.IsAbs(target) {
			// git reads it relative to the directory holding the file.
			target = filepath.Join(in.root, worktree, target)
		}
		t, ok := in.inside(target)
		if !ok || t == "." {
			return found // outside the workdir: the command cannot reach it
		}
		if in.kind(t) == unix.S_IFDIR {
			return in.addGitDir(found, gitDir{t, worktree})
		}
	}
	return found
}

// addGitDir lists g unless it lies in a git dir listed already (a
// submodule's dir in W/.git/modules is merged with W/.git); its hooks path
// is looked up either way.
func (in *inspector) addGitDir(found []gitDir, g gitDir) []gitDir {
	for _, f := range found {
		if g.dir == f.dir {
			return found
		}
		if strings.HasPrefix(g.dir, f.dir+"/") {
			return append(found, g)
		}
	}
	in.add(&in.repo.GitDirs, filepath.Join(in.root, g.dir))
	for _, part := range boundInGitDir {
		in.kind(g.dir + "/" + part) // records a symlink
	}
	return append(found, g)
}

// submodulePaths reads submodule.*.path of W/.gitmodules, keeping the
// paths that are relative, clean and free of "..".
func (in *inspector) submodulePaths() ([]string, error) {
	if typ, _ := fileType(in.fd, ".gitmodules"); typ != unix.S_IFREG {
		return nil, nil // git itself ignores a symlinked .gitmodules
	}
	data, err := readSmall(in.fd, ".gitmodules", maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf(".gitmodules: %w", err)
	}
	entries, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf(".gitmodules: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if e.Section == "submodule" && e.Name == "path" && isCleanRel(e.Value) {
			paths = append(paths, e.Value)
		}
	}
	return paths, nil
}

func isCleanRel(p string) bool {
	return p != "" && p != "." && p != ".." && !filepath.IsAbs(p) && filepath.Clean(p) == p &&
		!strings.HasPrefix(p, "../") && !strings.ContainsRune(p, '\n')
}

// hooksPaths adds the core.hooksPath values of g's config that lie in the
// workdir.
func (in *inspector) hooksPaths(g gitDir) error {
	cfg := g.dir + "/config"
	if in.kind(cfg) != unix.S_IFREG {
		return nil
	}
	data, err := readSmall(in.fd, cfg, maxConfigSize)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg, err)
	}
	entries, err := Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg, err)
	}
	for _, e := range entries {
		if e.Section != "core" || e.Subsection != "" || e.Name != "hookspath" || e.Value == "" {
			continue
		}
		p := e.Value
		switch {
		case p == "~" || strings.HasPrefix(p, "~/"):
			if in.home == "" {
				continue
			}
			p = filepath.Join(in.home, p[1:])
		case strings.HasPrefix(p, "~"):
			continue // another user's home
		case !filepath.IsAbs(p):
			// Hooks run at the top of the work tree.
			p = filepath.Join(in.root, g.worktree, p)
		}
		if rel, ok := in.inside(p); ok {
			in.add(&in.repo.HooksPaths, filepath.Join(in.root, rel))
			in.kind(rel)
		}
	}
	return nil
}

// inside returns abs relative to the workdir when it lies in it.
func (in *inspector) inside(abs string) (string, bool) {
	rel, err := filepath.Rel(in.root, filepath.Clean(abs))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// kind is fileType of a candidate path; a symlink at rel or on the way to
// it is recorded in Symlinked.
func (in *inspector) kind(rel string) uint32 {
	typ, err := fileType(in.fd, rel)
	if typ == unix.S_IFLNK {
		in.add(&in.repo.Symlinked, filepath.Join(in.root, rel))
	}
	if err != nil {
		return 0
	}
	return typ
}

// fileType returns the type of rel below dir, never following a symlink:
// S_IFLNK when rel is one or lies under one.
func fileType(dir int, rel string) (uint32, error) {
	fd, err := openBeneath(dir, rel, unix.O_PATH, 0)
	if errors.Is(err, unix.ELOOP) {
		return unix.S_IFLNK, nil
	}
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Mode & unix.S_IFMT, nil
}

func (in *inspector) add(list *[]string, p string) {
	key := fmt.Sprintf("%p\x00%s", list, p)
	if !in.seen[key] {
		in.seen[key] = true
		*list = append(*list, p)
	}
}
