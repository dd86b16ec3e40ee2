package rootfs

import (
	"os"
	"path/filepath"
)

// StateDir is one run's private directory on the host. It holds the
// overlays' upper and work directories, so it must sit on a disk-backed file
// system: a build can write gigabytes.
type StateDir string

func (s StateDir) Path() string          { return string(s) }
func (s StateDir) Root() string          { return filepath.Join(string(s), "root") }
func (s StateDir) Upper(n string) string { return filepath.Join(string(s), "upper", n) }
func (s StateDir) Work(n string) string  { return filepath.Join(string(s), "work", n) }
func (s StateDir) HostFS() string        { return filepath.Join(string(s), "host") }
func (s StateDir) VarTmp() string        { return filepath.Join(string(s), "var-tmp") }
func (s StateDir) Hosts() string         { return filepath.Join(string(s), "files", "hosts") }
func (s StateDir) Hostname() string      { return filepath.Join(string(s), "files", "hostname") }
func (s StateDir) ResolvConf() string    { return filepath.Join(string(s), "files", "resolv.conf") }
func (s StateDir) Empty() string         { return filepath.Join(string(s), "files", "empty") }
func (s StateDir) Lock() string          { return filepath.Join(string(s), "lock") }

// State is one run's state directory, held for the run's lifetime.
type State struct {
	Dir StateDir
	// Lock is the state's lock file, flocked while the run lives: a later
	// run that can take it knows this one is gone.
	Lock *os.File
	// Keep is --keep DIR, opened once before the command starts; nil
	// without --keep. FinishKeep and Remove work only through it.
	Keep *KeepDir
}

// Remove removes the run's state: the directory under the base, or with
// --keep everything in DIR (DIR itself stays: sbx holds no safe way to its
// parent). It releases the run's lock first, since it takes the lock itself
// while it works.
func (s *State) Remove() error {
	s.Lock.Close()
	if s.Keep != nil {
		return removeStateIn(s.Keep.fd)
	}
	return RemoveState(s.Dir.Path())
}

// Close releases the lock and the --keep descriptor.
func (s *State) Close() {
	s.Lock.Close()
	if s.Keep != nil {
		s.Keep.Close()
	}
}
