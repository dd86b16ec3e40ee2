package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
)

// resolveWorkdir finds the workdir's host path with symlinks resolved:
// what sbx binds and compares host paths with (its own binary, secrets, the
// state), while the command sees the path the caller used. A --home empty
// that the resolved paths show to hold a home is refused here too.
func resolveWorkdir(s *spec.Spec, homes []string) error {
	real, err := filepath.EvalSymlinks(s.Workdir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--workdir %s does not exist (or a symlink on the way leads nowhere)", s.Workdir)
	}
	if err != nil {
		return fmt.Errorf("--workdir %s: %w", s.Workdir, err)
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return fmt.Errorf("--workdir %s is not a directory", s.Workdir)
	}
	s.WorkdirSource = real
	if s.Home != spec.HomeEmpty {
		return nil
	}
	var resolved []string
	for _, h := range homes {
		if r, err := filepath.EvalSymlinks(h); err == nil {
			resolved = append(resolved, r)
		}
	}
	return spec.CheckHomeEmpty(real, resolved)
}

// openParent opens the directory that holds p and returns it with p's last
// element. Where p lies in the workdir, an earlier run may have planted
// symlinks on the way, so the directory is reached from the workdir without
// following any; elsewhere p is the user's own path, opened as given.
func openParent(s *spec.Spec, p string) (int, string, error) {
	p = filepath.Clean(p)
	dir, name := filepath.Dir(p), filepath.Base(p)
	for _, root := range []string{s.Workdir, s.WorkdirSource} {
		if rel, ok := strings.CutPrefix(dir, root); ok && root != "" && (rel == "" || rel[0] == '/') {
			if s.WorkdirSource == "" {
				return -1, "", fmt.Errorf("%s lies in the workdir, which could not be resolved", p)
			}
			fd, err := rootfs.OpenBeneath(s.WorkdirSource, s.WorkdirSource+rel, unix.O_RDONLY|unix.O_DIRECTORY)
			return fd, name, err
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("open %s: %w", dir, err)
	}
	return fd, name, nil
}

// createRecord creates the --report file before the command starts.
func createRecord(s *spec.Spec) (*report.File, error) {
	dir, name, err := openParent(s, s.Report)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Report, err)
	}
	defer unix.Close(dir)
	return report.CreateIn(dir, name, s.Report)
}

// openKeep opens --keep DIR before the command starts.
func openKeep(s *spec.Spec) (*rootfs.KeepDir, error) {
	dir, name, err := openParent(s, s.Keep)
	if err != nil {
		return nil, fmt.Errorf("--keep %s: %w", s.Keep, err)
	}
	defer unix.Close(dir)
	return rootfs.OpenKeepIn(dir, name, s.Keep)
}

// warnSymlinkedSelf warns when sbx was started through a symlink that lies
// in the workdir: its binary is protected inside, but the link is the
// workdir's, and the command can point it at a program of its own for the
// next run.
func warnSymlinkedSelf(s *spec.Spec, invoked string) {
	if !strings.Contains(invoked, "/") {
		return // found in PATH
	}
	abs, err := filepath.Abs(invoked)
	if err != nil {
		return
	}
	inWorkdir := false
	for _, root := range []string{s.Workdir, s.WorkdirSource} {
		if root != "" && strings.HasPrefix(abs, root+"/") {
			inWorkdir = true
		}
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil || !inWorkdir || real == abs || real == filepath.Join(s.WorkdirSource, strings.TrimPrefix(abs, s.Workdir)) {
		return
	}
	fmt.Fprintf(os.Stderr, "sbx: warning: started through the symbolic link %s in the workdir, which the command can point elsewhere for your next run; start %s itself\n", invoked, real)
}

// invokedAs is the path sbx was started by, as the kernel got it (argv[0]
// in /proc/self/cmdline; os.Args may have been rewritten).
func invokedAs() string {
	b, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		return os.Args[0]
	}
	arg0, _, _ := strings.Cut(string(b), "\x00")
	return arg0
}

// noteOutsideRepository tells the user when the workdir's repository lies
// outside it: it is then copy-on-write inside, like the rest of the host,
// so what git does to it there (a commit) is discarded at exit, and when
// it lies above the workdir, git inside does not find it at all (the
// workdir is a mount point, where git's search stops).
func noteOutsideRepository(s *spec.Spec) {
	w := s.WorkdirSource
	if fi, err := os.Lstat(filepath.Join(w, ".git")); err == nil {
		if !fi.Mode().IsRegular() {
			return // the workdir's own: protected, and merged back
		}
		b, err := os.ReadFile(filepath.Join(w, ".git"))
		if err != nil {
			return
		}
		dir := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "gitdir:"))
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(w, dir)
		}
		if dir = filepath.Clean(dir); dir != w && !strings.HasPrefix(dir, w+"/") {
			fmt.Fprintf(os.Stderr, "sbx: note: this workdir's git directory %s lies outside it and is copy-on-write inside: commits made inside are discarded; to keep them, run sbx in the repository's main worktree\n", rootfs.QuotePath(dir))
		}
		return
	}
	for d := filepath.Dir(w); d != "/"; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			fmt.Fprintf(os.Stderr, "sbx: note: the git repository at %s holds this workdir but is not part of it: git inside does not find it; use --workdir %s to work on it\n", rootfs.QuotePath(d), rootfs.QuotePath(d))
			return
		}
	}
}
