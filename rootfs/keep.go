package rootfs

import (
	"os"
	"path/filepath"
	"strings"
)

// FinishKeep turns a --keep state directory into what the user asked for:
// the run's upper layers at the paths they cover (DIR/etc holds what changed
// under /etc, whiteouts included), and nothing else.
func FinishKeep(s StateDir, layers []Layer) error {
	for _, d := range []string{s.Root(), filepath.Dir(s.Work("0")), filepath.Dir(s.Hosts()), s.VarTmp(), s.Lock()} {
		if err := RemoveTree(d); err != nil {
			return err
		}
	}
	// Out of the way first: a host directory named /upper would land on
	// DIR/upper itself.
	layersDir, err := os.MkdirTemp(s.Path(), ".layers-")
	if err != nil {
		return err
	}
	if err := os.Rename(filepath.Dir(s.Upper("0")), filepath.Join(layersDir, "upper")); err != nil {
		return err
	}
	for _, l := range layers {
		upper := filepath.Join(layersDir, "upper", filepath.Base(l.Upper))
		entries, err := os.ReadDir(upper)
		if err == nil && len(entries) == 0 {
			os.Remove(upper)
			continue
		}
		if l.Target == "/" {
			// The root's layer is DIR itself: its entries move there
			// one by one (first in the list, so nothing is there yet).
			for _, e := range entries {
				if err := os.Rename(filepath.Join(upper, e.Name()), filepath.Join(s.Path(), e.Name())); err != nil {
					return err
				}
			}
			continue
		}
		dst := filepath.Join(s.Path(), strings.TrimPrefix(l.Target, "/"))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Rename(upper, dst); err != nil {
			return err
		}
	}
	return RemoveTree(layersDir)
}
