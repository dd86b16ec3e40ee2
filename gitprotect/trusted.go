//go:build linux

package gitprotect

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The host's git trusts some paths in the workdir through its config: a
// hooks directory (core.hooksPath), a file it includes (include.path,
// includeIf.*.path), a program a code-running key names by a relative or
// absolute path (core.fsmonitor = tools/fsmon.sh, a filter's clean
// command). The command could rewrite them through the workdir, so they are
// found before the run and protected.

// trustedOf scans the config files of the protected git dir g, and of
// each of its linked worktrees in the workdir.
func (in *inspector) trustedOf(g gitDir) error {
	// A hooks directory that is a symlink (.git/hooks -> ../.githooks)
	// leads the host's git to where it points.
	if in.kind(g.dir+"/hooks") == unix.S_IFLNK {
		in.trustHooks(g.dir + "/hooks")
	}
	linked := in.linkedWorktrees(g.dir)
	roots := append([]string{g.worktree}, linked...)
	in.roots = append(in.roots, roots...)
	for _, name := range []string{"config", "config.worktree"} {
		if err := in.scanInWorkdir(g.dir+"/"+name, &g, roots, 0); err != nil {
			return err
		}
	}
	names, _ := dirEntries(in.fd, g.dir+"/worktrees")
	for _, n := range names {
		wt := in.worktreeRoot(g.dir, n)
		if wt == "" {
			continue
		}
		if err := in.scanInWorkdir(g.dir+"/worktrees/"+n+"/config.worktree", &g, []string{wt}, 0); err != nil {
			return err
		}
	}
	return nil
}

// maxIncludeDepth bounds includes followed, as git does (10).
const maxIncludeDepth = 10

// scanInWorkdir scans the config file rel of the workdir, reached without
// symlinks; a missing one adds nothing.
func (in *inspector) scanInWorkdir(rel string, g *gitDir, roots []string, depth int) error {
	if in.kind(rel) != unix.S_IFREG {
		return nil
	}
	data, err := readSmall(in.fd, rel, maxConfigSize)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if err := in.scanConfig(data, filepath.Dir(filepath.Join(in.root, rel)), g, roots, depth); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return nil
}

// scanConfigFile scans a config file outside the workdir, read as given
// (the command cannot write there); one that cannot be read or parsed adds
// nothing.
func (in *inspector) scanConfigFile(path string, g *gitDir, roots []string, depth int) {
	if rel, ok := in.inside(path); ok {
		in.scanInWorkdir(rel, g, roots, depth)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) > maxConfigSize {
		return
	}
	in.scanConfig(data, filepath.Dir(path), g, roots, depth)
}

// scanConfig adds what one config file trusts. dir is the file's own
// directory (includes are relative to it); roots are the work trees
// (relative to the workdir) whose hooks and programs it governs.
func (in *inspector) scanConfig(data []byte, dir string, g *gitDir, roots []string, depth int) error {
	entries, err := Parse(data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch {
		case e.Value == "" || e.Bare:
		case e.Section == "core" && e.Name == "hookspath":
			for _, r := range roots {
				if p, ok := in.resolve(e.Value, filepath.Join(in.root, r)); ok {
					// One that does not exist yet (husky's before its
					// install) cannot be bound: hooks the command puts
					// there are moved aside after the run.
					in.trustHooks(p)
				}
			}
		case (e.Section == "include" || e.Section == "includeif") && e.Name == "path":
			in.trustPath(e.Value, dir, g)
			// What an included file sets counts as much as the rest.
			if depth < maxIncludeDepth {
				if p, ok := includeTarget(e.Value, dir, in.home); ok {
					in.scanConfigFile(p, g, roots, depth+1)
				}
			}
		case RunsCode(e) && !notAProgram[e.Section] && e.Key() != "core.worktree":
			prog := programOf(e.Value)
			if !strings.Contains(prog, "/") {
				continue // found in PATH, not in the workdir
			}
			for _, r := range roots {
				in.trustPath(prog, filepath.Join(in.root, r), g)
			}
		}
	}
	return nil
}

// notAProgram are sections of code-running or redirecting keys whose
// values are URLs, paths of repositories or files read, not programs.
var notAProgram = map[string]bool{"remote": true, "branch": true, "submodule": true, "commit": true,
	"http": true, "url": true, "protocol": true, "include": true, "includeif": true}

// trustPath protects what value names, relative to base, when it lies in
// the workdir: read-only when it exists; when it does not, listed so that
// one the command makes is not kept (in a git dir, left to the merge).
func (in *inspector) trustPath(value, base string, g *gitDir) {
	rel, ok := in.resolve(value, base)
	if !ok {
		return
	}
	abs := filepath.Join(in.root, rel)
	if g != nil {
		if inGit, err := filepath.Rel(filepath.Join(in.root, g.dir), abs); err == nil && !strings.HasPrefix(inGit, "..") {
			if in.repo.KeepHost == nil {
				in.repo.KeepHost = map[string][]string{}
			}
			key := filepath.Join(in.root, g.dir)
			in.repo.KeepHost[key] = append(in.repo.KeepHost[key], inGit)
			return
		}
	}
	switch in.kind(rel) {
	case unix.S_IFREG, unix.S_IFDIR:
		in.add(&in.repo.Trusted, abs)
	case 0:
		in.trustMissing(rel)
	}
}

// trustMissing lists the top-most missing component of rel (the command
// could make it a directory, or a symlink to one, holding what git looks
// for below).
func (in *inspector) trustMissing(rel string) {
	top := rel
	for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
		if in.kind(d) != 0 {
			break
		}
		top = d
	}
	in.add(&in.repo.MissingTrusted, filepath.Join(in.root, top))
}

// trustHooks protects the hooks directory rel: read-only when it is one.
// When it is a symlink, the link is put back as it was after the run (see
// KeptLinks), and a directory it leads to in the workdir is protected in
// its place. (A symlink on the way to rel, not at it, counts as missing.)
func (in *inspector) trustHooks(rel string) {
	abs := filepath.Join(in.root, rel)
	switch in.kind(rel) {
	case unix.S_IFDIR:
		in.add(&in.repo.HooksPaths, abs)
	case unix.S_IFLNK:
		link, err := os.Readlink(abs)
		if err != nil || in.kind(filepath.Dir(rel)) != unix.S_IFDIR {
			in.trustMissing(rel)
			return
		}
		if in.repo.KeptLinks == nil {
			in.repo.KeptLinks = map[string]string{}
		}
		in.repo.KeptLinks[abs] = link
		target := link
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(abs), target)
		}
		real, err := filepath.EvalSymlinks(target)
		t, ok := in.inside(real)
		switch {
		case err != nil:
			// Dangling (or a loop): what the command makes there counts.
			if t, ok := in.inside(target); ok && t != "." && in.kind(t) == 0 {
				in.trustMissing(t)
			}
		case ok && t != ".":
			in.trustHooks(t) // resolved: no symlink left to recurse on
		}
	default:
		in.trustMissing(rel)
	}
}

// includeTarget is the file an include names, as git finds it.
func includeTarget(value, dir, home string) (string, bool) {
	switch {
	case value == "~" || strings.HasPrefix(value, "~/"):
		if home == "" {
			return "", false
		}
		return filepath.Join(home, value[1:]), true
	case strings.HasPrefix(value, "~"):
		return "", false
	case filepath.IsAbs(value):
		return value, true
	}
	return filepath.Join(dir, value), true
}

// resolve turns a path from a config value into one relative to the
// workdir, when it lies in it: `~/` is the home, relative paths are
// relative to base.
func (in *inspector) resolve(p, base string) (string, bool) {
	switch {
	case p == "~" || strings.HasPrefix(p, "~/"):
		if in.home == "" {
			return "", false
		}
		p = filepath.Join(in.home, p[1:])
	case strings.HasPrefix(p, "~"):
		return "", false // another user's home
	case !filepath.IsAbs(p):
		p = filepath.Join(base, p)
	}
	rel, ok := in.inside(p)
	if !ok || rel == "." {
		return "", false
	}
	return rel, true
}

// programOf is the program a command-valued key runs: its first word,
// without a leading `!` or quotes.
func programOf(value string) string {
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(value), "!"))
	if f := strings.Fields(v); len(f) > 0 {
		return strings.Trim(f[0], `"'`)
	}
	return ""
}

// linkedWorktrees are the roots, relative to the workdir, of g's linked
// worktrees that lie in it; their `.git` files are protected like the
// workdir's.
func (in *inspector) linkedWorktrees(g string) []string {
	names, err := dirEntries(in.fd, g+"/worktrees")
	if err != nil {
		return nil
	}
	var roots []string
	for _, n := range names {
		if wt := in.worktreeRoot(g, n); wt != "" {
			roots = append(roots, wt)
			if in.kind(wt+"/.git") == unix.S_IFREG {
				in.add(&in.repo.GitFiles, filepath.Join(in.root, wt, ".git"))
			}
		}
	}
	return roots
}

// worktreeRoot is the root, relative to the workdir, of g's linked
// worktree name (g/worktrees/NAME/gitdir names its .git), or "" when it
// lies outside.
func (in *inspector) worktreeRoot(g, name string) string {
	data, err := readSmall(in.fd, g+"/worktrees/"+name+"/gitdir", 4096)
	if err != nil {
		return ""
	}
	dotgit := strings.TrimSpace(string(data))
	if rel, ok := in.inside(dotgit); ok && filepath.Base(rel) == ".git" && filepath.Dir(rel) != "." {
		return filepath.Dir(rel)
	}
	return ""
}

// dirEntries lists the directory rel below dir, reached without symlinks.
func dirEntries(dir int, rel string) ([]string, error) {
	fd, err := openBeneath(dir, rel, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return readNames(fd)
}

// gitDirConfigs are the config files of a git dir outside the workdir, and
// of its main repository when it is a linked worktree's.
func gitDirConfigs(gitDir string) []string {
	out := []string{filepath.Join(gitDir, "config"), filepath.Join(gitDir, "config.worktree")}
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		common := strings.TrimSpace(string(b))
		if !filepath.IsAbs(common) {
			common = filepath.Join(gitDir, common)
		}
		out = append(out, filepath.Join(common, "config"))
	}
	return out
}

// outsideConfigs are the user's and the system's git config files.
func outsideConfigs(home string) []string {
	var out []string
	if p := os.Getenv("GIT_CONFIG_GLOBAL"); p != "" {
		out = append(out, p)
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		out = append(out, filepath.Join(x, "git", "config"))
	} else if home != "" {
		out = append(out, filepath.Join(home, ".config", "git", "config"))
	}
	if home != "" {
		out = append(out, filepath.Join(home, ".gitconfig"))
	}
	if p := os.Getenv("GIT_CONFIG_SYSTEM"); p != "" {
		out = append(out, p)
	} else {
		out = append(out, "/etc/gitconfig")
	}
	return out
}
