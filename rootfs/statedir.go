package rootfs

import "path/filepath"

// StateDir is one run's private directory on the host. It holds the
// overlays' upper and work directories, so it must sit on a disk-backed file
// system: a build can write gigabytes.
type StateDir string

func (s StateDir) Path() string          { return string(s) }
func (s StateDir) Root() string          { return filepath.Join(string(s), "root") }
func (s StateDir) Upper(n string) string { return filepath.Join(string(s), "upper", n) }
func (s StateDir) Work(n string) string  { return filepath.Join(string(s), "work", n) }
func (s StateDir) VarTmp() string        { return filepath.Join(string(s), "var-tmp") }
func (s StateDir) Hosts() string         { return filepath.Join(string(s), "files", "hosts") }
func (s StateDir) Hostname() string      { return filepath.Join(string(s), "files", "hostname") }
func (s StateDir) Empty() string         { return filepath.Join(string(s), "files", "empty") }
func (s StateDir) Lock() string          { return filepath.Join(string(s), "lock") }
