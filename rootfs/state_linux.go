package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// StateDirEnv names the variable that overrides where run state lives.
const StateDirEnv = "SBX_STATE_DIR"

// StateBase picks the caller's private directory for run state: a directory
// of its own under /var/tmp (disk-backed on every mainstream distribution,
// unlike /tmp or $XDG_RUNTIME_DIR, which are often small tmpfs), else the
// user's cache directory.
//
// SBX_STATE_DIR, when set to an absolute path, is used instead: for hosts
// whose /var/tmp is small, and for tests that need a base of their own.
func StateBase(uid int, home string) (string, error) {
	if dir := os.Getenv(StateDirEnv); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("%s=%s: must be an absolute path", StateDirEnv, dir)
		}
		if err := privateDir(dir, uid); err != nil {
			return "", fmt.Errorf("%s=%s: %w", StateDirEnv, dir, err)
		}
		return dir, nil
	}
	var errs []string
	candidates := []string{filepath.Join("/var/tmp", "sbx-"+strconv.Itoa(uid))}
	if c := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(c) {
		candidates = append(candidates, filepath.Join(c, "sbx"))
	} else if home != "" && home != "/" {
		candidates = append(candidates, filepath.Join(home, ".cache", "sbx"))
	}
	for _, c := range candidates {
		if err := privateDir(c, uid); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		var st unix.Statfs_t
		if unix.Statfs(c, &st) == nil && (st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC) && len(candidates) > 1 && c == candidates[0] {
			errs = append(errs, c+" is on a tmpfs")
			continue
		}
		return c, nil
	}
	return "", fmt.Errorf("no private state directory: %s; fix: mkdir -m 0700 %s", strings.Join(errs, "; "), candidates[0])
}

// privateDir makes sure dir exists, is a real directory owned by uid and
// closed to others; another user must not be able to prepare it for us.
func privateDir(dir string, uid int) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("%s belongs to uid %d, not %d", dir, st.Uid, uid)
	}
	if st.Mode&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// NewState creates one run's state directory under base (or at keep, which
// must not exist or be empty) and locks it for the run's lifetime: a later
// run that can take the lock knows the run that made it is gone.
func NewState(base, keep string) (StateDir, *os.File, error) {
	var dir string
	if keep != "" {
		if err := os.Mkdir(keep, 0o700); err != nil {
			entries, rerr := os.ReadDir(keep)
			if rerr != nil || len(entries) > 0 {
				return "", nil, fmt.Errorf("--keep %s: must be a new or empty directory", keep)
			}
		}
		dir = keep
	} else {
		// Made under a temporary name and renamed once locked, so a
		// concurrent run's StaleRuns never sees a run directory without
		// its lock held.
		var err error
		if dir, err = os.MkdirTemp(base, "new-"); err != nil {
			return "", nil, err
		}
	}
	s := StateDir(dir)
	for _, d := range []string{s.Root(), filepath.Dir(s.Upper("0")), filepath.Dir(s.Work("0")), filepath.Dir(s.Hosts())} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", nil, err
		}
	}
	// /var/tmp inside: world-writable and sticky, as everywhere.
	if err := os.Mkdir(s.VarTmp(), 0o700); err != nil {
		return "", nil, err
	}
	if err := os.Chmod(s.VarTmp(), 0o777|os.ModeSticky); err != nil {
		return "", nil, err
	}
	lock, err := os.OpenFile(s.Lock(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", nil, err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return "", nil, fmt.Errorf("lock %s: %w", s.Lock(), err)
	}
	if keep == "" {
		run := filepath.Join(base, "run-"+strings.TrimPrefix(filepath.Base(dir), "new-"))
		if err := os.Rename(dir, run); err != nil {
			lock.Close()
			return "", nil, err
		}
		s = StateDir(run)
	}
	return s, lock, nil
}

// WriteFiles writes the files the plan binds in: /etc/hosts naming the
// hostname, /etc/hostname, and the empty file that hides secrets.
func (s StateDir) WriteFiles(hostname string) error {
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost %[1]s\n::1\tlocalhost ip6-localhost ip6-loopback %[1]s\n", hostname)
	if err := os.WriteFile(s.Hosts(), []byte(hosts), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(s.Hostname(), []byte(hostname+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(s.Empty(), nil, 0o444)
}

// MakeLayers creates each overlay's upper and work directory. The upper
// directory lends its mode to the overlay's root, so it copies the lower's.
func (s StateDir) MakeLayers(p *Plan) error {
	for _, l := range p.Layers {
		const kept = os.ModePerm | os.ModeSticky
		mode := os.FileMode(0o755)
		if fi, err := os.Stat(l.Lower); err == nil {
			mode = fi.Mode() & kept
		}
		// The overlay's root takes the upper root's mode. A chmod is a
		// journaled write, so only when the umask took bits away.
		if err := os.Mkdir(l.Upper, mode); err != nil {
			return err
		}
		if fi, err := os.Lstat(l.Upper); err != nil || fi.Mode()&kept != mode {
			if err := os.Chmod(l.Upper, mode); err != nil {
				return err
			}
		}
	}
	ops := p.Ops
	if p.Root != nil {
		ops = append([]Op{*p.Root}, ops...)
	}
	for _, op := range ops {
		if op.Kind == OpOverlay {
			if err := os.Mkdir(op.Work, 0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// abandonedAfter is how old a half-made state directory ("new-") must be
// before another run takes it for the remains of a killed one.
const abandonedAfter = time.Hour

// StaleRuns lists run directories under base whose run is gone (their lock
// is free), left behind by a run that was killed.
func StaleRuns(base string) []string {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var stale []string
	for _, e := range entries {
		dir := filepath.Join(base, e.Name())
		if !e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), "new-") {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > abandonedAfter {
				stale = append(stale, dir)
			}
			continue
		}
		if !strings.HasPrefix(e.Name(), "run-") {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			stale = append(stale, dir)
		}
		f.Close()
	}
	return stale
}
