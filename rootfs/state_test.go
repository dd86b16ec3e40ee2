package rootfs

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// newState makes a state and releases it when the test ends.
func newState(t *testing.T, base, keep string) (*State, StateDir) {
	t.Helper()
	st, err := NewState(base, keep)
	must(t, err)
	t.Cleanup(st.Close)
	return st, st.Dir
}

func TestNewState(t *testing.T) {
	base := t.TempDir()
	st, s := newState(t, base, "")
	lock := st.Lock
	if filepath.Dir(s.Path()) != base || !strings.HasPrefix(filepath.Base(s.Path()), "run-") {
		t.Errorf("state dir %s, want run-* directly under %s", s, base)
	}
	if got := names(t, base); !reflect.DeepEqual(got, []string{filepath.Base(s.Path())}) {
		t.Errorf("base holds %v, want only the run directory (no new-*)", got)
	}
	if got, want := names(t, s.Path()), []string{"files", "lock", "root", "upper", "var-tmp", "work"}; !reflect.DeepEqual(got, want) {
		t.Errorf("state holds %v, want %v", got, want)
	}
	for _, d := range []string{s.Root(), filepath.Dir(s.Upper("0")), filepath.Dir(s.Work("0")), filepath.Dir(s.Hosts())} {
		fi, err := os.Lstat(d)
		must(t, err)
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want a 0700 directory", d, fi.Mode())
		}
	}
	fi, err := os.Lstat(s.VarTmp())
	must(t, err)
	if fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("var-tmp mode %v, want drwxrwxrwt", fi.Mode())
	}
	// The returned file is the lock, and it is held.
	var held, onDisk syscall.Stat_t
	must(t, syscall.Fstat(int(lock.Fd()), &held))
	must(t, syscall.Stat(s.Lock(), &onDisk))
	if held.Ino != onDisk.Ino || held.Dev != onDisk.Dev {
		t.Errorf("returned file is not %s", s.Lock())
	}
	other, err := os.OpenFile(s.Lock(), os.O_RDWR, 0)
	must(t, err)
	defer other.Close()
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != unix.EWOULDBLOCK {
		t.Errorf("flock of a running state's lock: %v, want EWOULDBLOCK", err)
	}
}

func TestNewStateKeep(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "keep-new")
	_, s := newState(t, base, fresh)
	if s.Path() != fresh {
		t.Errorf("--keep into a new directory: state %s, want %s", s, fresh)
	}
	empty := filepath.Join(base, "keep-empty")
	must(t, os.Mkdir(empty, 0o755))
	_, s = newState(t, base, empty)
	if s.Path() != empty {
		t.Errorf("--keep into an empty directory: state %s, want %s", s, empty)
	}
	full := filepath.Join(base, "keep-full")
	must(t, os.Mkdir(full, 0o755))
	must(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o644))
	if _, err := NewState(base, full); err == nil || !strings.Contains(err.Error(), "must be a new or empty directory") {
		t.Errorf("--keep into a non-empty directory: err = %v", err)
	}
	if got := names(t, full); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("non-empty --keep directory changed: %v", got)
	}
}

func TestStaleRuns(t *testing.T) {
	base := t.TempDir()
	heldState, held := newState(t, base, "")
	freedState, freed := newState(t, base, "")
	freedState.Lock.Close()
	young := filepath.Join(base, "new-young")
	old := filepath.Join(base, "new-old")
	oldHeld := filepath.Join(base, "new-old-held")
	for _, d := range []string{young, old, oldHeld} {
		must(t, os.Mkdir(d, 0o700))
	}
	f, err := os.Create(filepath.Join(oldHeld, "lock"))
	must(t, err)
	defer f.Close()
	must(t, unix.Flock(int(f.Fd()), unix.LOCK_EX))
	two := time.Now().Add(-2 * time.Hour)
	must(t, os.Chtimes(old, two, two))
	must(t, os.Chtimes(oldHeld, two, two))
	// No lock: what a removal that failed half-way used to leave, or a
	// killed run's after its lock was removed. Its run is gone.
	noLock := filepath.Join(base, "run-nolock")
	must(t, os.Mkdir(noLock, 0o700))
	must(t, os.Mkdir(filepath.Join(base, "other"), 0o700))
	must(t, os.WriteFile(filepath.Join(base, "run-file"), nil, 0o600))
	must(t, os.Symlink(t.TempDir(), filepath.Join(base, "run-link")))

	got := StaleRuns(base)
	sort.Strings(got)
	want := []string{old, freed.Path(), noLock}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StaleRuns:\n got %v\nwant %v (held: %s)", got, want, held)
	}
	// Checking must not take the lock away from the run that holds it.
	other, err := os.Open(held.Lock())
	must(t, err)
	defer other.Close()
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != unix.EWOULDBLOCK {
		t.Errorf("after StaleRuns, the live run's lock: %v, want EWOULDBLOCK", err)
	}
	heldState.Lock.Close()
	got = StaleRuns(base)
	if !contains(got, held.Path()) {
		t.Errorf("after its lock was released, %s is not stale: %v", held, got)
	}
	if StaleRuns(filepath.Join(base, "missing")) != nil {
		t.Error("StaleRuns of a missing base is not nil")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestWriteFiles(t *testing.T) {
	_, s := newState(t, t.TempDir(), "")
	must(t, s.WriteFiles("box1"))
	for path, want := range map[string]string{
		s.Hosts():    "127.0.0.1\tlocalhost box1\n::1\tlocalhost ip6-localhost ip6-loopback box1\n",
		s.Hostname(): "box1\n",
		s.Empty():    "",
	} {
		b, err := os.ReadFile(path)
		must(t, err)
		if string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
	fi, err := os.Stat(s.Empty())
	must(t, err)
	if fi.Mode() != 0o444 {
		t.Errorf("empty file mode %v, want -r--r--r--", fi.Mode())
	}
}

func TestMakeLayers(t *testing.T) {
	_, s := newState(t, t.TempDir(), "")
	src := t.TempDir()
	must(t, os.Chmod(src, 0o751))
	p := &Plan{
		Ops: []Op{
			{Kind: OpOverlay, Source: src, Target: "/x", Upper: s.Upper("0"), Work: s.Work("0")},
			{Kind: OpBind, Source: src, Target: "/y"},
		},
		Layers: []Layer{{Target: "/x", Lower: src, Upper: s.Upper("0")}},
	}
	must(t, s.MakeLayers(p))
	fi, err := os.Stat(s.Upper("0"))
	must(t, err)
	if fi.Mode().Perm() != 0o751 {
		t.Errorf("upper mode %v, want the lower's 0751", fi.Mode())
	}
	if _, err := os.Stat(s.Work("0")); err != nil {
		t.Error(err)
	}
	if got := names(t, filepath.Dir(s.Upper("0"))); !reflect.DeepEqual(got, []string{"0"}) {
		t.Errorf("upper holds %v, want [0]", got)
	}
}

// A mode the umask would trim (and the sticky bit) still reaches the upper.
func TestMakeLayersModeDespiteUmask(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	_, s := newState(t, t.TempDir(), "")
	src := t.TempDir()
	must(t, os.Chmod(src, 0o777|os.ModeSticky))
	p := &Plan{Layers: []Layer{{Target: "/x", Lower: src, Upper: s.Upper("0")}}}
	must(t, s.MakeLayers(p))
	fi, err := os.Stat(s.Upper("0"))
	must(t, err)
	if got := fi.Mode() & (os.ModePerm | os.ModeSticky); got != 0o777|os.ModeSticky {
		t.Errorf("upper mode %v, want the lower's %v", got, 0o777|os.ModeSticky)
	}
}

func TestStateBase(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	dir, err := StateBase(os.Getuid(), t.TempDir())
	must(t, err)
	if want := "/var/tmp/sbx-" + strconv.Itoa(os.Getuid()); dir != want && dir != filepath.Join(cache, "sbx") {
		t.Errorf("StateBase = %s, want %s or %s", dir, want, filepath.Join(cache, "sbx"))
	}
	fi, err := os.Lstat(dir)
	must(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 || int(st.Uid) != os.Getuid() {
		t.Errorf("StateBase = %s: mode %v uid %d; want a 0700 directory owned by %d", dir, fi.Mode(), st.Uid, os.Getuid())
	}
}

func TestStateBaseOverride(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	t.Setenv(StateDirEnv, dir)
	got, err := StateBase(os.Getuid(), "/home/u")
	if err != nil || got != dir {
		t.Fatalf("StateBase = %q, %v; want %q", got, err, dir)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state base %s: %v, mode %v; want 0700", dir, err, fi.Mode())
	}
	t.Setenv(StateDirEnv, "relative/state")
	if _, err := StateBase(os.Getuid(), "/home/u"); err == nil {
		t.Error("a relative SBX_STATE_DIR was accepted")
	}
}

// The files bound in for every user inside keep their modes under the
// caller's umask: under umask 077 /etc/resolv.conf was 0600, and a program
// that dropped root had no resolver.
func TestWriteFilesIgnoresTheUmask(t *testing.T) {
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	s := StateDir(t.TempDir())
	if err := os.Mkdir(filepath.Join(string(s), "files"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFiles("box"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		s.Hosts(): 0o644, s.Hostname(): 0o644, s.ResolvConf(): 0o644, s.Empty(): 0o444,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), want)
		}
	}
	if b, _ := os.ReadFile(s.Hostname()); string(b) != "box\n" {
		t.Errorf("hostname file %q", b)
	}
}
