// Package report writes the JSON record of a run (--report).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/rootfs"
)

// Record is the run record. Fields the host could not measure are null,
// never invented; later versions fill limits, pids and net.
type Record struct {
	ExitCode        int             `json:"exit_code"`
	Cause           string          `json:"cause"` // exit, signal, timeout, oom, setup-error
	Signal          *string         `json:"signal"`
	DurationMS      int64           `json:"duration_ms"`
	CPUUserMS       *int64          `json:"cpu_user_ms"`
	CPUSystemMS     *int64          `json:"cpu_system_ms"`
	MemoryPeakBytes *int64          `json:"memory_peak_bytes"`
	PidsPeak        *int64          `json:"pids_peak"`
	Limits          any             `json:"limits"`
	Net             any             `json:"net"`
	Changes         []rootfs.Change `json:"changes"`
	// GitRefused are the changes to the workdir's git directories that
	// did not reach the host (--git-protect): keys that run programs,
	// hooks, symlinks. Absent when nothing was refused.
	GitRefused []GitRefusal `json:"git_refused,omitempty"`
	Error      string       `json:"error,omitempty"`
	// View is the host view the run had: "fuse+overlay" (the kernel
	// overlay over sbx's FUSE view: host root's files are root's inside),
	// "overlay" (the kernel overlay of host directories: for a caller
	// other than root, they show as nobody's and only their tops take
	// writes), "fuse-overlayfs", or "read-only".
	View string `json:"view,omitempty"`
	// EnvDropped are the names of the caller's environment variables that
	// did not reach the command (not on the allowlist, or secret-looking
	// and not named with --env). Names only, never values.
	EnvDropped []string `json:"env_dropped"`
	// Protections are the limits on the command's privileges that were in
	// force; null when the run failed before they were settled.
	Protections *Protections `json:"protections"`
}

// Protections say what held the command back.
type Protections struct {
	Seccomp Seccomp `json:"seccomp"`
	// Capabilities is the command's capability set as root inside
	// (bounding, permitted and effective; inheritable and ambient are
	// empty). A command run as another uid holds none of them.
	Capabilities []string `json:"capabilities"`
	NoNewPrivs   bool     `json:"no_new_privs"`
	// NestedUserns says whether the command may create namespaces.
	NestedUserns bool `json:"nested_userns"`
}

// Seccomp is the system call filter: Mode "default", "unconfined" or
// "file" (then Profile names it), and how many system call rules it holds.
type Seccomp struct {
	Mode    string `json:"mode"`
	Profile string `json:"profile,omitempty"`
	Rules   int    `json:"rules"`
}

// GitRefusal is one change to a git directory that was not taken back to
// the host. Path is relative to the workdir.
type GitRefusal struct {
	Path   string `json:"path"`
	Key    string `json:"key,omitempty"`
	Reason string `json:"reason"`
}

// SignalName is the name of signal n ("SIGTERM"), or nil for 0.
func SignalName(n int) *string {
	if n == 0 {
		return nil
	}
	name := unix.SignalName(unix.Signal(n))
	if name == "" {
		return nil
	}
	return &name
}

// Int64 is a helper for optional numbers.
func Int64(v int64) *int64 { return &v }

// File is the report file, opened before the command starts. The command
// may write where its name lives; the record goes to the file opened then,
// whatever the name points to by the end of the run.
type File struct {
	fd, dir int // the file, and the directory its name is in
	name    string
	path    string
}

// Create opens path for the record, creating it (mode 0644) if missing. The
// directories on the way are the user's own (symlinks allowed); path itself
// must be a regular file, never a symlink, fifo or device. It truncates
// nothing: Write does, so a run that fails before writing leaves the old
// file as it was.
func Create(path string) (*File, error) {
	name := filepath.Base(path)
	if name == "." || name == ".." || name == "/" || strings.HasSuffix(path, "/") {
		return nil, fmt.Errorf("%s: not a file name", path)
	}
	dir, err := unix.Open(filepath.Dir(path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: directory %s: %w", path, filepath.Dir(path), err)
	}
	f, err := CreateIn(dir, name, path)
	unix.Close(dir)
	return f, err
}

// CreateIn is Create for the entry name of the directory dir, for a
// record whose directories the command could have written (the caller
// opened dir without following symlinks). dir stays the caller's.
func CreateIn(parent int, name, path string) (*File, error) {
	if name == "." || name == ".." || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("%s: not a file name", path)
	}
	dir, err := unix.FcntlInt(uintptr(parent), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keepDir := false
	defer func() {
		if !keepDir {
			unix.Close(dir)
		}
	}()
	// O_NONBLOCK: opening a fifo must fail or return at once, never wait
	// for a reader.
	fd, err := unix.Openat(dir, name, unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	switch err {
	case nil:
	case unix.ELOOP:
		return nil, fmt.Errorf("%s: is a symbolic link; give the file itself", path)
	case unix.ENXIO:
		return nil, fmt.Errorf("%s: not a regular file", path)
	default:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	keepDir = true
	return &File{fd: fd, dir: dir, name: name, path: path}, nil
}

// Write replaces the file's content with the record, through the
// descriptor opened by Create.
func (f *File) Write(r Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := unix.Ftruncate(f.fd, 0); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	for off := 0; off < len(b); {
		n, err := unix.Pwrite(f.fd, b[off:], int64(off))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		off += n
	}
	return f.stillNamed()
}

// stillNamed tells the user when the command removed or replaced the
// record's name during the run: the record is then in a file no name leads
// to, and the user should know rather than find nothing or a stranger's
// file there.
func (f *File) stillNamed() error {
	var mine, named unix.Stat_t
	if err := unix.Fstat(f.fd, &mine); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	err := unix.Fstatat(f.dir, f.name, &named, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil || named.Dev != mine.Dev || named.Ino != mine.Ino {
		return fmt.Errorf("%s was removed or replaced during the run (not followed); the record was not written there", f.path)
	}
	return nil
}

// Close releases the file.
func (f *File) Close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	unix.Close(f.dir)
	f.fd, f.dir = -1, -1
	return err
}

// Stream empties the file and returns a writer that appends to it through
// the descriptor, for a log written during the run (--net-log).
func (f *File) Stream() (io.Writer, error) {
	if err := unix.Ftruncate(f.fd, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return &stream{f: f}, nil
}

type stream struct {
	f   *File
	off int64
}

func (s *stream) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Pwrite(s.f.fd, b[done:], s.off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, fmt.Errorf("%s: %w", s.f.path, err)
		}
		done += n
		s.off += int64(n)
	}
	return done, nil
}
