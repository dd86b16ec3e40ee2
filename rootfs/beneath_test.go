package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenBeneath(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "a/b"), 0o755))
	must(t, os.Symlink(outside, filepath.Join(root, "a/link")))
	must(t, os.Symlink("b", filepath.Join(root, "a/rel")))
	fd, err := OpenBeneath(root, filepath.Join(root, "a/b"), unix.O_PATH|unix.O_DIRECTORY)
	must(t, err)
	unix.Close(fd)
	for _, p := range []string{"a/link", "a/link/x", "a/rel", "a/rel/c"} {
		fd, err := OpenBeneath(root, filepath.Join(root, p), unix.O_PATH)
		if err == nil {
			unix.Close(fd)
			t.Errorf("%s: opened through a symlink", p)
		} else if !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOENT) {
			t.Errorf("%s: %v, want ELOOP", p, err)
		}
	}
	if _, err := OpenBeneath(root, outside, unix.O_PATH); err == nil {
		t.Error("opened a path outside root")
	}
}

// TestOpenBeneathRace swaps a directory for a symlink to the outside while
// another goroutine opens through it: every open either finds the real
// directory or fails, never the outside.
func TestOpenBeneathRace(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "canary"), []byte("outside"), 0o644))
	dir, aside := filepath.Join(root, "d"), filepath.Join(root, "d.real")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "canary"), []byte("inside"), 0o644))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			os.Rename(dir, aside)
			os.Symlink(outside, dir)
			os.Remove(dir)
			os.Rename(aside, dir)
		}
	}()
	for i := 0; i < 2000; i++ {
		fd, err := OpenBeneath(root, filepath.Join(dir, "canary"), unix.O_RDONLY)
		if err != nil {
			continue
		}
		buf := make([]byte, 16)
		n, _ := unix.Read(fd, buf)
		unix.Close(fd)
		if string(buf[:n]) != "inside" {
			close(stop)
			<-done
			t.Fatalf("read %q through a swapped symlink", buf[:n])
		}
	}
	close(stop)
	<-done
}
