package rootfs

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// keepState makes a --keep state in a new DIR with the given layers'
// upper and work directories.
func keepState(t *testing.T, targets ...string) (*State, string, []Layer) {
	t.Helper()
	keep := filepath.Join(t.TempDir(), "keep")
	st, s := newState(t, t.TempDir(), keep)
	must(t, s.WriteFiles("sbx"))
	var layers []Layer
	p := &Plan{}
	for i, target := range targets {
		n := strconv.Itoa(i)
		layers = append(layers, Layer{Target: target, Lower: t.TempDir(), Upper: s.Upper(n)})
		p.Ops = append(p.Ops, Op{Kind: OpOverlay, Source: t.TempDir(), Target: target, Upper: s.Upper(n), Work: s.Work(n)})
	}
	p.Layers = layers
	must(t, s.MakeLayers(p))
	st.Lock.Close() // as the run does before FinishKeep
	return st, keep, layers
}

func TestFinishKeep(t *testing.T) {
	st, keep, layers := keepState(t, "/etc", "/usr/local", "/root") // unchanged, nested, the state's root/ name
	s := st.Dir
	must(t, os.MkdirAll(filepath.Join(s.Upper("1"), "bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(s.Upper("1"), "bin", "tool"), []byte("new"), 0o755))
	must(t, os.WriteFile(filepath.Join(s.Upper("2"), ".bashrc"), []byte("rc"), 0o644))
	must(t, os.MkdirAll(filepath.Join(s.Work("1"), "work"), 0))

	must(t, FinishKeep(st, layers))
	if got, want := names(t, keep), []string{"root", "usr"}; !reflect.DeepEqual(got, want) {
		t.Errorf("--keep dir holds %v, want %v", got, want)
	}
	for path, want := range map[string]string{
		filepath.Join(keep, "usr", "local", "bin", "tool"): "new",
		filepath.Join(keep, "root", ".bashrc"):             "rc",
	} {
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", path, b, err, want)
		}
	}
	if got := names(t, filepath.Join(keep, "root")); !reflect.DeepEqual(got, []string{".bashrc"}) {
		t.Errorf("keep/root holds %v, want the layer only", got)
	}
}

func TestFinishKeepRootLayer(t *testing.T) {
	st, keep, layers := keepState(t, "/", "/usr/local")
	must(t, os.MkdirAll(filepath.Join(st.Dir.Upper("0"), "usr", "share"), 0o755))
	must(t, os.WriteFile(filepath.Join(st.Dir.Upper("0"), "f"), []byte("x"), 0o644))
	must(t, os.WriteFile(filepath.Join(st.Dir.Upper("1"), "g"), []byte("y"), 0o644))
	must(t, FinishKeep(st, layers))
	if got, want := names(t, keep), []string{"f", "usr"}; !reflect.DeepEqual(got, want) {
		t.Errorf("--keep dir holds %v, want %v", got, want)
	}
	if got, want := names(t, filepath.Join(keep, "usr")), []string{"local", "share"}; !reflect.DeepEqual(got, want) {
		t.Errorf("DIR/usr holds %v, want %v", got, want)
	}
}

func TestFinishKeepTargetNamedUpper(t *testing.T) {
	st, keep, layers := keepState(t, "/upper")
	must(t, os.WriteFile(filepath.Join(st.Dir.Upper("0"), "f"), []byte("x"), 0o644))
	must(t, FinishKeep(st, layers))
	if b, err := os.ReadFile(filepath.Join(keep, "upper", "f")); err != nil || string(b) != "x" {
		t.Errorf("DIR/upper/f = %q, %v; want x", b, err)
	}
}

// victim is a directory FinishKeep must leave alone.
func victim(t *testing.T) string {
	t.Helper()
	v := t.TempDir()
	must(t, os.WriteFile(filepath.Join(v, "precious"), []byte("p"), 0o600))
	return v
}

func checkVictim(t *testing.T, v string) {
	t.Helper()
	if got := names(t, v); !reflect.DeepEqual(got, []string{"precious"}) {
		t.Errorf("the victim directory now holds %v", got)
	}
}

func TestFinishKeepLayerSymlink(t *testing.T) {
	st, keep, layers := keepState(t, "/etc", "/opt")
	v := victim(t)
	must(t, os.Remove(st.Dir.Upper("0")))
	must(t, os.Symlink(v, st.Dir.Upper("0")))
	err := FinishKeep(st, layers)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("FinishKeep with upper/0 a symlink: %v, want a refusal", err)
	}
	checkVictim(t, v)
	if _, err := os.Lstat(filepath.Join(keep, "etc")); !os.IsNotExist(err) {
		t.Errorf("DIR/etc: %v; the victim was moved in", err)
	}
}

func TestFinishKeepPlantedSymlinkInDir(t *testing.T) {
	st, keep, layers := keepState(t, "/", "/usr/local")
	v := victim(t)
	// What the root layer holds lands in DIR: here, usr -> the victim.
	must(t, os.Symlink(v, filepath.Join(st.Dir.Upper("0"), "usr")))
	must(t, os.WriteFile(filepath.Join(st.Dir.Upper("1"), "g"), []byte("y"), 0o644))
	err := FinishKeep(st, layers)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(keep, "usr")) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("FinishKeep through DIR/usr -> victim: %v, want a refusal naming DIR/usr", err)
	}
	checkVictim(t, v)
}

// The command may replace the name DIR (its parent can be in the workdir);
// FinishKeep keeps working on the directory it opened.
func TestFinishKeepDirRenamed(t *testing.T) {
	st, keep, layers := keepState(t, "/etc")
	must(t, os.WriteFile(filepath.Join(st.Dir.Upper("0"), "x"), []byte("x"), 0o644))
	v := victim(t)
	moved := keep + ".moved"
	must(t, os.Rename(keep, moved))
	must(t, os.Symlink(v, keep))
	must(t, FinishKeep(st, layers))
	checkVictim(t, v)
	if b, err := os.ReadFile(filepath.Join(moved, "etc", "x")); err != nil || string(b) != "x" {
		t.Errorf("the opened DIR's etc/x = %q, %v", b, err)
	}
}

func TestOpenKeepRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	must(t, os.Mkdir(empty, 0o755))
	link := filepath.Join(dir, "link")
	must(t, os.Symlink(empty, link))
	for _, p := range []string{link, link + "/"} {
		if _, err := NewState(t.TempDir(), p); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("--keep %s: %v, want a refusal", p, err)
		}
	}
	if got := names(t, empty); len(got) != 0 {
		t.Errorf("the symlink's target got %v", got)
	}
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	if _, err := NewState(t.TempDir(), file); err == nil || !strings.Contains(err.Error(), "must be a new or empty directory") {
		t.Errorf("--keep FILE: %v", err)
	}
}

func TestKeepRemove(t *testing.T) {
	st, keep, _ := keepState(t, "/etc")
	must(t, os.WriteFile(filepath.Join(st.Dir.Upper("0"), "x"), nil, 0o644))
	must(t, st.Remove())
	if got := names(t, keep); len(got) != 0 {
		t.Errorf("after Remove, DIR holds %v", got)
	}
}

// With --keep, the diff reads the layers of the DIR opened at the start.
func TestStateChangesKeepRenamed(t *testing.T) {
	st, keep, layers := keepState(t, "/etc")
	must(t, os.WriteFile(filepath.Join(st.Dir.Upper("0"), "new"), nil, 0o644))
	v := victim(t)
	must(t, os.Rename(keep, keep+".moved"))
	must(t, os.MkdirAll(filepath.Join(keep, "upper"), 0o755))
	must(t, os.Symlink(v, filepath.Join(keep, "upper", "0")))
	got := st.Changes(layers)
	if want := []Change{{Path: "/etc/new", Kind: "added"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Changes = %v, want %v", got, want)
	}
}

// TestFinishKeepHostFS checks that the FUSE view's mount point, which the
// state holds beside the layers, is not kept as a change to /host.
func TestFinishKeepHostFS(t *testing.T) {
	keep := filepath.Join(t.TempDir(), "keep")
	st, s := newState(t, t.TempDir(), keep)
	must(t, s.WriteFiles("sbx"))
	root := Layer{Target: "/", Lower: "/", Upper: s.Upper("root")}
	p := &Plan{Root: &Op{Kind: OpOverlay, Target: "/", Upper: root.Upper, Work: s.Work("root")},
		Layers: []Layer{root}, HostFS: &HostFS{Mount: s.HostFS()}}
	must(t, s.MakeLayers(p))
	if _, err := os.Stat(s.HostFS()); err != nil {
		t.Fatalf("no mount point for the FUSE view: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(root.Upper, "f"), []byte("x"), 0o644))
	st.Lock.Close()
	must(t, FinishKeep(st, p.Layers))
	if got, want := names(t, keep), []string{"f"}; !reflect.DeepEqual(got, want) {
		t.Errorf("--keep dir holds %v, want %v", got, want)
	}
}
