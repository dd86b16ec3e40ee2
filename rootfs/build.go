package rootfs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/spec"
)

// HostView is what the planner reads of the host file system; tests give it
// a temporary tree.
type HostView interface {
	Lstat(path string) (fs.FileInfo, error)
	ReadDir(path string) ([]fs.DirEntry, error)
	// Readable reports whether the caller may list and enter a directory.
	Readable(path string) bool
	// Empty reports whether a directory has no entries.
	Empty(path string) bool
}

// OS is the real host.
type OS struct{}

func (OS) Lstat(p string) (fs.FileInfo, error)     { return os.Lstat(p) }
func (OS) ReadDir(p string) ([]fs.DirEntry, error) { return os.ReadDir(p) }
func (OS) Readable(p string) bool                  { return unix.Access(p, unix.R_OK|unix.X_OK) == nil }

// Empty reads at most one entry.
func (OS) Empty(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) == 0
}

// Inputs is everything the planner needs besides the Spec.
type Inputs struct {
	Spec *spec.Spec
	Host HostView
	// MountPoints are the host's mount points (from /proc/self/mountinfo).
	// The kernel refuses an overlay whose lower directory holds other
	// mounts inside a user namespace, so their parents are built from their
	// children instead.
	MountPoints []string
	// State is this run's private directory on the host (see StateDir).
	State StateDir
	// Avoid are host paths that must not lie inside an overlay's lower
	// directory (the state directory, --keep): the kernel refuses layers
	// that overlap, and the sandbox must not see them.
	Avoid []string
	Home  string
	// PasswdHome is the caller's home in the password database: secrets
	// are hidden there too, since HOME=/elsewhere does not move ~/.ssh.
	PasswdHome string
	// Self is the host path of the sbx binary; where a read-write bind
	// shows it inside, it is made read-only (runc CVE-2019-5736: a
	// sandbox must not rewrite the runtime that later runs on the host).
	Self string
	// Driver is DriverKernel or DriverFuse; FuseOverlayfs is its binary.
	Driver        string
	FuseOverlayfs string
	// Git is what --git-protect covers; nil when it is off.
	Git *GitProtect
}

// replaced are top-level directories the sandbox gets new, never the host's.
var replaced = map[string]bool{"/proc": true, "/sys": true, "/dev": true, "/tmp": true, "/run": true}

// maxCopy is the largest file copied into the root's tmpfs when it sits
// directly in a directory that is built from its children; larger ones are
// bound read-only so a run does not spend memory on them.
const maxCopy = 16 << 20

// Build computes the plan for one run.
func Build(in Inputs) (*Plan, error) {
	b := &builder{in: in, plan: &Plan{Driver: in.Driver, FuseOverlayfs: in.FuseOverlayfs, KeepUpper: in.Spec.Keep != ""}}
	b.replaced = map[string]bool{}
	for p := range replaced {
		b.replaced[p] = true
	}
	if fi, err := in.Host.Lstat("/var/tmp"); err == nil && fi.IsDir() {
		b.replaced["/var/tmp"] = true
	}
	b.splitters = b.computeSplitters()
	if in.Spec.Rootfs != spec.RootfsRO || in.Driver == DriverKernel {
		b.rootLayer()
		if in.Driver == DriverHostFS {
			b.plan.HostFS = &HostFS{Mount: in.State.HostFS()}
		}
	}
	if err := b.hostView(); err != nil {
		return nil, err
	}
	b.system()
	b.home()
	b.workdir()
	b.secrets()
	if err := b.userMounts(); err != nil {
		return nil, err
	}
	// Protections go on top of the user's mounts, so a later --bind over
	// a parent of the workdir does not hide them.
	b.protect()
	if in.Spec.Rootfs == spec.RootfsRO {
		b.add(Op{Kind: OpRootRO, Target: "/"})
	}
	if b.plan.HostFS != nil {
		b.hostFSRules()
	}
	return b.plan, nil
}

// hostFSRules says what the FUSE view leaves out: the replaced directories
// and every hidden path are served empty (the mounts over them come on
// top), the avoided ones not at all.
func (b *builder) hostFSRules() {
	h := b.plan.HostFS
	for p := range b.replaced {
		h.Empty = append(h.Empty, p)
	}
	for _, op := range b.plan.Ops {
		if op.Kind == OpHide && !b.underReplaced(op.Target) {
			h.Empty = append(h.Empty, op.Target)
		}
	}
	sort.Strings(h.Empty)
	h.Absent = append(h.Absent, b.in.Avoid...)
}

type builder struct {
	in        Inputs
	plan      *Plan
	replaced  map[string]bool
	splitters map[string]bool // directories built from their children
	layers    int
	pinned    map[string]bool // directories bound onto themselves (pinAncestors)
	guarded   []Op            // protections, added after every pin (see guard)
}

func (b *builder) add(op Op) { b.plan.Ops = append(b.plan.Ops, op) }

// rootLayer puts the skeleton (see Plan) under an overlay of its own: its
// lower is the skeleton, which copies the host's entries, so its changes are
// named against the host's /.
func (b *builder) rootLayer() {
	upper := b.in.State.Upper("root")
	b.plan.Root = &Op{Kind: OpOverlay, Target: "/", Upper: upper, Work: b.in.State.Work("root")}
	b.plan.Layers = append(b.plan.Layers, Layer{Target: "/", Lower: "/", Upper: upper})
}

// computeSplitters marks every ancestor of a mount point or avoided path
// that lies in the copy-on-write host view.
func (b *builder) computeSplitters() map[string]bool {
	s := map[string]bool{"/": true}
	mark := func(p string) {
		p = filepath.Clean(p)
		// Under a replaced directory nothing needs splitting. The state
		// directory in /var/tmp is the common case: /var stays one
		// overlay although its lower holds the upper directories. The
		// kernel accepts that at mount time and would refuse only a
		// lookup that reached them through the overlay, which the new
		// /var/tmp mounted over it rules out.
		if b.underReplaced(p) {
			return
		}
		for d := filepath.Dir(p); ; d = filepath.Dir(d) {
			s[d] = true
			if d == "/" {
				return
			}
		}
	}
	for _, m := range b.in.MountPoints {
		mark(m)
	}
	for _, a := range b.in.Avoid {
		mark(a)
	}
	return s
}

func (b *builder) underReplaced(p string) bool {
	for r := range b.replaced {
		if under(p, r) {
			return true
		}
	}
	return false
}

func (b *builder) avoided(p string) bool {
	for _, a := range b.in.Avoid {
		if p == filepath.Clean(a) {
			return true
		}
	}
	return false
}

// hostView makes every top-level host directory visible: copy-on-write or
// read-only.
func (b *builder) hostView() error {
	if b.plan.HostFS != nil {
		// The FUSE view under the root's overlay shows the whole host:
		// nothing to build from the host's entries.
		b.varTmp()
		return nil
	}
	entries, err := b.in.Host.ReadDir("/")
	if err != nil {
		return fmt.Errorf("read the host's /: %w", err)
	}
	if b.in.Spec.Rootfs == spec.RootfsRO && b.plan.Root == nil {
		for _, e := range entries {
			p := "/" + e.Name()
			if b.replaced[p] {
				continue
			}
			b.readOnlyEntry(p, e)
		}
	} else if err := b.splitDir("/", entries); err != nil {
		return err
	}
	b.varTmp()
	return nil
}

// varTmp gives the sandbox a /var/tmp of its own, on disk in the state.
func (b *builder) varTmp() {
	if b.replaced["/var/tmp"] {
		b.add(Op{Kind: OpBind, Source: b.in.State.VarTmp(), Target: "/var/tmp"})
	}
}

func (b *builder) readOnlyEntry(p string, e fs.DirEntry) {
	switch {
	case e.Type()&fs.ModeSymlink != 0:
		b.symlink(p)
	case e.IsDir() || e.Type().IsRegular():
		b.add(Op{Kind: OpBind, Source: p, Target: p, ReadOnly: true})
	}
}

// splitDir builds dir from its children: subdirectories are overlaid (or
// split again), symlinks recreated, small files copied.
func (b *builder) splitDir(dir string, entries []fs.DirEntry) error {
	if dir != "/" {
		b.add(Op{Kind: OpMkdir, Target: dir, Mode: hostDirMode(b.in.Host, dir)})
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if b.replaced[p] || b.avoided(p) {
			if b.replaced[p] && dir != "/" {
				b.add(Op{Kind: OpMkdir, Target: p, Mode: 0o1777})
			}
			continue
		}
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			b.symlink(p)
		case e.IsDir():
			if err := b.cowDir(p); err != nil {
				return err
			}
		case e.Type().IsRegular():
			fi, err := e.Info()
			if err != nil {
				continue
			}
			if fi.Size() <= maxCopy {
				b.add(Op{Kind: OpCopy, Source: p, Target: p, Mode: uint32(fi.Mode().Perm()), Optional: true})
			} else {
				b.add(Op{Kind: OpBind, Source: p, Target: p, ReadOnly: true, Optional: true})
			}
		}
		// Sockets, fifos and device nodes beside mounts are left out: a
		// host socket is a way out of the sandbox.
	}
	return nil
}

func (b *builder) cowDir(p string) error {
	if !b.splitters[p] && !b.in.Host.Readable(p) {
		// Closed to the caller (/root, /lost+found): nothing in it could
		// be read inside either. An empty read-only directory costs no
		// layer on disk, and fuse-overlayfs cannot open such a lower.
		mode := uint32(0o700)
		if fi, err := b.in.Host.Lstat(p); err == nil {
			mode = uint32(fi.Mode().Perm())
		}
		b.add(Op{Kind: OpTmpfs, Target: p, Mode: mode, Data: "ro,nosuid,nodev,noexec"})
		return nil
	}
	if !b.splitters[p] && b.plan.Root != nil && b.in.Host.Empty(p) {
		// Nothing to copy on write: a directory of the skeleton behaves
		// the same, and what is written in it goes to the root's layer,
		// without an overlay whose mount alone costs a dozen metadata
		// operations on the upper file system.
		b.add(Op{Kind: OpMkdir, Target: p, Mode: hostDirMode(b.in.Host, p)})
		return nil
	}
	if !b.splitters[p] {
		n := strconv.Itoa(b.layers)
		b.layers++
		upper := b.in.State.Upper(n)
		// Optional: a host directory removed between the plan and the
		// mount leaves an empty one, not a failed run.
		// A read-only view is the same overlays, each made read-only
		// once mounted: an overlay's socket connects nowhere, where a
		// read-only bind of the host's directory would reach the host's
		// listener.
		ro := b.in.Spec.Rootfs == spec.RootfsRO
		b.add(Op{Kind: OpOverlay, Source: p, Target: p, Upper: upper, Work: b.in.State.Work(n), Optional: true, ReadOnly: ro})
		b.plan.Layers = append(b.plan.Layers, Layer{Target: p, Lower: p, Upper: upper})
		return nil
	}
	entries, err := b.in.Host.ReadDir(p)
	if err != nil {
		// Unreadable: nothing inside it can be shown anyway.
		b.add(Op{Kind: OpMkdir, Target: p, Mode: 0o700})
		return nil
	}
	return b.splitDir(p, entries)
}

// hostDirMode is the mode of host directory p as mkdirat takes it.
func hostDirMode(h HostView, p string) uint32 {
	mode := uint32(0o755)
	if fi, err := h.Lstat(p); err == nil {
		mode = uint32(fi.Mode().Perm())
		if fi.Mode()&fs.ModeSticky != 0 {
			mode |= 0o1000 // the raw bit mkdirat wants, not Go's flag
		}
	}
	return mode
}

func (b *builder) symlink(p string) {
	// The link text is read by the child at apply time from the host path.
	b.add(Op{Kind: OpSymlink, Source: p, Target: p, Optional: true})
}

func under(path, dir string) bool {
	return path == dir || dir == "/" || strings.HasPrefix(path, dir+"/")
}
