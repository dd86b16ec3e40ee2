//go:build linux

package gitprotect

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
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
	// HooksPaths are core.hooksPath directories of those git dirs that
	// lie in the workdir; one that does not exist yet is in
	// MissingTrusted.
	HooksPaths []string
	// GitFiles are `.git` files (gitdir: ...) of the workdir and of its
	// submodules: rewritten, one would point the host's git at a
	// repository the command made.
	GitFiles []string
	// Trusted are files and directories in the workdir that the host's
	// git trusts through its config (a file it includes, a program it
	// runs): bound read-only. MissingTrusted are such paths that do not
	// exist yet, which the command must not create either.
	Trusted, MissingTrusted []string
	// KeptLinks are symlinks in the workdir the host's git follows (a
	// hooks path that is a link to a directory there), with their targets:
	// put back as they were after the run.
	KeptLinks map[string]string
	// KeepHost lists, per git dir, paths in it (relative) that its merge
	// must leave as the host has them: config files the host's config
	// includes from there.
	KeepHost map[string][]string
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
	// external are config files outside the workdir to scan (a linked
	// worktree's git dir and its main repository's).
	external []string
	// roots are the work trees found, relative to the workdir.
	roots []string
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
		if err := in.trustedOf(g); err != nil {
			return err
		}
	}
	// The user's and system's config, and a linked worktree's main
	// repository's, apply to every work tree in the workdir.
	roots := append([]string{"."}, in.roots...)
	for _, cfg := range append(in.external, outsideConfigs(in.home)...) {
		in.scanConfigFile(cfg, nil, roots, 0)
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
			// Outside the workdir: the command cannot reach it, but its
			// config (and the main repository's, for a linked worktree)
			// may trust paths in the workdir.
			in.external = append(in.external, gitDirConfigs(target)...)
			return found
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
		return in.indexGitlinks(), nil // git itself ignores a symlinked .gitmodules
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
	// The index's submodule entries too: .gitmodules is a file of the
	// workdir, which an earlier run may have edited to drop one.
	for _, p := range in.indexGitlinks() {
		if isCleanRel(p) && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// indexGitlinks are the submodule paths in W/.git/index, sorted; none when
// there is no readable index.
func (in *inspector) indexGitlinks() []string {
	if in.kind(".git/index") != unix.S_IFREG {
		return nil
	}
	index, err := readSmall(in.fd, ".git/index", maxIndexSize)
	if err != nil {
		return nil
	}
	config, _ := readSmall(in.fd, ".git/config", maxConfigSize)
	links, err := gitlinks(index, hashLen(config))
	if err != nil {
		return nil
	}
	var out []string
	for p := range links {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func isCleanRel(p string) bool {
	return p != "" && p != "." && p != ".." && !filepath.IsAbs(p) && filepath.Clean(p) == p &&
		!strings.HasPrefix(p, "../") && !strings.ContainsRune(p, '\n')
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
