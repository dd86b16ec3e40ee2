package gitprotect

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCleanObjects(t *testing.T) {
	g, outside := t.TempDir(), t.TempDir()
	for _, d := range []string{"objects/ab", "objects/pack", "objects/info"} {
		if err := os.MkdirAll(filepath.Join(g, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(g, "objects/cd")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(g, "objects/ff"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(g, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	refused := CleanObjects(fd)
	if len(refused) != 2 {
		t.Errorf("refused %+v, want objects/cd and objects/ff", refused)
	}
	for _, name := range []string{"cd", "ff"} {
		if _, err := os.Lstat(filepath.Join(g, "objects", name)); err == nil {
			t.Errorf("objects/%s is still there", name)
		}
	}
	for _, name := range []string{"ab", "pack", "info"} {
		if fi, err := os.Lstat(filepath.Join(g, "objects", name)); err != nil || !fi.IsDir() {
			t.Errorf("objects/%s was touched: %v", name, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the symlink's target was touched: %v", err)
	}
}
