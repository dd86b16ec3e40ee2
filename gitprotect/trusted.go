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

// trustedOf scans the config files of the protected git dir g.
func (in *inspector) trustedOf(g gitDir) error {
	roots := append([]string{g.worktree}, in.linkedWorktrees(g.dir)...)
	for _, name := range []string{"config", "config.worktree"} {
		rel := g.dir + "/" + name
		if in.kind(rel) != unix.S_IFREG {
			continue
		}
		data, err := readSmall(in.fd, rel, maxConfigSize)
		if err != nil {
			return err
		}
		if err := in.scanConfig(data, filepath.Join(in.root, g.dir), &g, roots); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
	return nil
}

// scanConfigFile scans a config file outside the workdir, read as given
// (the command cannot write there); one that cannot be read or parsed adds
// nothing.
func (in *inspector) scanConfigFile(path string, g *gitDir, roots []string) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) > maxConfigSize {
		return
	}
	in.scanConfig(data, filepath.Dir(path), g, roots)
}

// scanConfig adds what one config file trusts. dir is the file's own
// directory (includes are relative to it); roots are the work trees
// (relative to the workdir) whose hooks and programs it governs.
func (in *inspector) scanConfig(data []byte, dir string, g *gitDir, roots []string) error {
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
					if in.kind(p) == unix.S_IFDIR {
						in.add(&in.repo.HooksPaths, filepath.Join(in.root, p))
					} else {
						in.add(&in.repo.MissingTrusted, filepath.Join(in.root, p))
					}
				}
			}
		case (e.Section == "include" || e.Section == "includeif") && e.Name == "path":
			in.trustPath(e.Value, dir, g)
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
		in.add(&in.repo.MissingTrusted, abs)
	}
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
// worktrees that lie in it (g/worktrees/NAME/gitdir names their .git).
func (in *inspector) linkedWorktrees(g string) []string {
	names, err := dirEntries(in.fd, g+"/worktrees")
	if err != nil {
		return nil
	}
	var roots []string
	for _, n := range names {
		data, err := readSmall(in.fd, g+"/worktrees/"+n+"/gitdir", 4096)
		if err != nil {
			continue
		}
		dotgit := strings.TrimSpace(string(data))
		if rel, ok := in.inside(dotgit); ok && filepath.Base(rel) == ".git" {
			roots = append(roots, filepath.Dir(rel))
		}
	}
	return roots
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
