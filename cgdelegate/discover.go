package cgdelegate

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Host is where discovery looks and who asks: the real process, or a temp
// tree laid out like one in tests.
type Host struct {
	// ProcSelf holds the process's cgroup and mountinfo files.
	ProcSelf string
	// UID and GIDs are the caller's ids: the cgroup files' owners and
	// modes decide what it may write, as the kernel's permission check
	// does (a root caller may write anywhere).
	UID  int
	GIDs []int
}

// RealHost is this process.
func RealHost() Host {
	gids, _ := os.Getgroups()
	return Host{ProcSelf: "/proc/self", UID: os.Getuid(), GIDs: append(gids, os.Getgid())}
}

// Hierarchy is where this process sits in the cgroup v2 hierarchy.
type Hierarchy struct {
	// Mount is where cgroup2 is mounted; MountRoot the hierarchy path that
	// the mount shows at its top ("/" unless sbx itself runs in a cgroup
	// namespace).
	Mount, MountRoot string
	// Own is this process's cgroup, a hierarchy path ("/user.slice/...").
	Own string
	// Hybrid is set when cgroup v1 hierarchies are mounted beside it:
	// systemd's hybrid layout, whose cgroup2 holds no controllers.
	Hybrid bool
}

// Dir is the directory of hierarchy path p.
func (h Hierarchy) Dir(p string) string {
	rel := strings.TrimPrefix(p, h.MountRoot)
	return filepath.Join(h.Mount, rel)
}

// ErrNoV2 says the host has no cgroup v2 hierarchy this process is in.
var ErrNoV2 = errors.New("no cgroup v2 hierarchy")

// Find reads the process's cgroup and the cgroup2 mount that shows it.
func Find(host Host) (Hierarchy, error) {
	own, err := ownCgroup(filepath.Join(host.ProcSelf, "cgroup"))
	if err != nil {
		return Hierarchy{}, err
	}
	mounts, err := cgroupMounts(filepath.Join(host.ProcSelf, "mountinfo"))
	if err != nil {
		return Hierarchy{}, err
	}
	h := Hierarchy{Own: own}
	for _, m := range mounts {
		switch m.fstype {
		case "cgroup":
			h.Hybrid = true
		case "cgroup2":
			// The mount that shows our cgroup; the first such (the
			// usual /sys/fs/cgroup) wins over later binds of it.
			if h.Mount == "" && under(own, m.root) {
				h.Mount, h.MountRoot = m.point, m.root
			}
		}
	}
	if h.Mount == "" {
		return h, fmt.Errorf("%w: no cgroup2 file system is mounted that shows this process's cgroup %s", ErrNoV2, own)
	}
	return h, nil
}

// ownCgroup is the v2 entry ("0::/path") of a /proc/PID/cgroup file.
func ownCgroup(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return path.Clean(p), nil
		}
	}
	return "", fmt.Errorf("%w: %s has no cgroup v2 entry (0::), the host mounts only cgroup v1", ErrNoV2, file)
}

type mount struct{ root, point, fstype string }

// cgroupMounts are the cgroup (v1) and cgroup2 mounts in a mountinfo file.
func cgroupMounts(file string) ([]mount, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) {
			continue
		}
		if t := fields[sep+1]; t == "cgroup" || t == "cgroup2" {
			out = append(out, mount{root: unescape(fields[3]), point: unescape(fields[4]), fstype: t})
		}
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes of space, tab, newline and
// backslash.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// under says whether hierarchy path p is root or beneath it.
func under(p, root string) bool {
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

// delegationFiles are what a delegation hands the delegatee besides the
// directory: with them it may move processes, enable controllers for its
// children and make threaded subtrees (systemd's Delegate=yes chowns
// exactly these).
var delegationFiles = []string{"cgroup.procs", "cgroup.subtree_control", "cgroup.threads"}

// Delegated says whether the caller may manage dir's subtree: create
// children in it, move processes in and enable controllers. The error
// names the first thing it may not write.
func Delegated(host Host, dir string) error {
	if err := mayWrite(host, dir, true); err != nil {
		return err
	}
	for _, name := range delegationFiles {
		if err := mayWrite(host, filepath.Join(dir, name), false); err != nil {
			return err
		}
	}
	return nil
}

// mayWrite is the kernel's permission check for writing file (and, for a
// directory, searching it), from its owner and mode, for host's ids.
func mayWrite(host Host, file string, dir bool) error {
	var st unix.Stat_t
	if err := unix.Lstat(file, &st); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if host.UID == 0 {
		return nil
	}
	need := uint32(2) // w
	if dir {
		need |= 1 // x
	}
	var have uint32
	switch {
	case int(st.Uid) == host.UID:
		have = st.Mode >> 6 & 7
	case hasGroup(host.GIDs, int(st.Gid)):
		have = st.Mode >> 3 & 7
	default:
		have = st.Mode & 7
	}
	if have&need != need {
		return fmt.Errorf("%s is owned by %d:%d, mode %04o: not writable by uid %d", file, st.Uid, st.Gid, st.Mode&0o7777, host.UID)
	}
	return nil
}

func hasGroup(gids []int, g int) bool {
	for _, x := range gids {
		if x == g {
			return true
		}
	}
	return false
}
