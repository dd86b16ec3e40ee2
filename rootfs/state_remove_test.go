package rootfs

// Tests of removing run state: RemoveState, its lock, and stale runs.

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fillState puts some of what a run leaves in its state directory.
func fillState(t *testing.T, s StateDir) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(s.Upper("0"), "a", "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(s.Upper("0"), "a", "b", "f"), []byte("x"), 0o644))
	must(t, os.MkdirAll(filepath.Join(s.Work("0"), "work"), 0o755))
	must(t, os.Chmod(filepath.Join(s.Work("0"), "work"), 0))
	must(t, os.MkdirAll(filepath.Dir(s.Hosts()), 0o700))
	must(t, s.WriteFiles("box"))
}

func TestRemoveTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	must(t, os.MkdirAll(filepath.Join(dir, "work", "work", "x"), 0o755))
	must(t, os.Chmod(filepath.Join(dir, "work", "work"), 0))
	must(t, RemoveTree(dir))
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("after RemoveTree: %v", err)
	}
}

func TestRemoveTreeFollowsNothing(t *testing.T) {
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "keepme"), []byte("x"), 0o600))
	must(t, os.Chmod(outside, 0o750))
	dir := filepath.Join(t.TempDir(), "tree")
	must(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("x"), 0o600))
	must(t, os.Symlink(outside, filepath.Join(dir, "a", "link")))
	must(t, os.Symlink(outside, filepath.Join(dir, "link")))
	must(t, RemoveTree(dir))
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("after RemoveTree: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "keepme")); err != nil {
		t.Errorf("RemoveTree followed a symlink: %v", err)
	}
	if fi, err := os.Stat(outside); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("the symlink's target changed: %v %v", fi.Mode(), err)
	}
	must(t, RemoveTree(filepath.Join(t.TempDir(), "missing")))
}

func TestRemoveState(t *testing.T) {
	base := t.TempDir()
	st, s := newState(t, base, "")
	fillState(t, s)
	must(t, st.Remove())
	if got := names(t, base); len(got) != 0 {
		t.Errorf("base holds %v after Remove", got)
	}
	must(t, RemoveState(s.Path())) // gone already: fine
	must(t, RemoveState(filepath.Join(base, "missing", "run-x")))
}

// A removal that fails half-way keeps the lock, so the directory stays
// stale and the next run tries again.
func TestRemoveStateKeepsLockOnFailure(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give a directory to another id")
	}
	base := t.TempDir()
	st, s := newState(t, base, "")
	fillState(t, s)
	theirs := filepath.Join(s.Upper("0"), "theirs")
	must(t, os.Mkdir(theirs, 0o755))
	must(t, os.WriteFile(filepath.Join(theirs, "f"), nil, 0o644))
	must(t, os.Chown(theirs, 65534, 65534))
	st.Lock.Close()
	if err := asOwner(t, func() error { return RemoveState(s.Path()) }); err == nil {
		t.Fatal("RemoveState with another id's files succeeded")
	}
	if got, want := names(t, s.Path()), []string{"lock", "upper"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a failed removal the state holds %v, want %v", got, want)
	}
	if got := StaleRuns(base); !reflect.DeepEqual(got, []string{s.Path()}) {
		t.Errorf("StaleRuns = %v, want the half-removed %s", got, s)
	}
	must(t, RemoveState(s.Path())) // with the capabilities back, as in the namespace
	if got := names(t, base); len(got) != 0 {
		t.Errorf("base holds %v", got)
	}
}

// Runs cleaning the same stale directory at once all succeed, with its
// lock file or without.
func TestRemoveStateParallel(t *testing.T) {
	for _, withLock := range []bool{true, false} {
		base := t.TempDir()
		st, s := newState(t, base, "")
		for i := 0; i < 30; i++ {
			fillState(t, StateDir(filepath.Join(s.Upper("0"), strconv.Itoa(i))))
		}
		st.Lock.Close()
		if !withLock {
			must(t, os.Remove(s.Lock()))
		}
		errs := make([]error, 6)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = RemoveState(s.Path())
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("lock %v: remover %d: %v", withLock, i, err)
			}
		}
		if got := names(t, base); len(got) != 0 {
			t.Errorf("lock %v: base holds %v", withLock, got)
		}
	}
}

// The remover holds the stale run's lock: while another holds it, it waits.
func TestRemoveStateTakesLock(t *testing.T) {
	base := t.TempDir()
	st, s := newState(t, base, "")
	done := make(chan error, 1)
	go func() { done <- RemoveState(s.Path()) }()
	select {
	case err := <-done:
		t.Fatalf("RemoveState did not wait for the lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := os.Stat(s.Root()); err != nil {
		t.Errorf("removed while the lock was held: %v", err)
	}
	st.Lock.Close()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("RemoveState still waiting after the lock was released")
	}
	if got := names(t, base); len(got) != 0 {
		t.Errorf("base holds %v", got)
	}
}

// While runs start and end, StaleRuns never names one that is alive.
func TestStaleRunsNeverListsLiveRun(t *testing.T) {
	base := t.TempDir()
	stop := make(chan struct{})
	var mu sync.Mutex
	live := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				st, err := NewState(base, "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				live[st.Dir.Path()] = true
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				delete(live, st.Dir.Path())
				mu.Unlock()
				st.Remove()
			}
		}()
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		mu.Lock()
		before := map[string]bool{}
		for d := range live {
			before[d] = true
		}
		mu.Unlock()
		for _, d := range StaleRuns(base) {
			// Alive before the check began, and still alive after.
			mu.Lock()
			still := live[d]
			mu.Unlock()
			if before[d] && still {
				t.Errorf("StaleRuns listed the live run %s", d)
			}
		}
	}
	close(stop)
	wg.Wait()
}
