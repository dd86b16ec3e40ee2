// Package rootfs builds the sandbox's root file system: a plan of mount
// operations computed from the Spec and the host (pure data), then one step
// that applies it inside the child's mount namespace.
package rootfs

// OpKind names one kind of setup operation.
type OpKind string

const (
	OpTmpfs    OpKind = "tmpfs"     // a new tmpfs at Target (Mode, Data = extra options)
	OpOverlay  OpKind = "overlay"   // Source copy-on-write at Target, changes in Upper
	OpBind     OpKind = "bind"      // host Source at Target, recursively; ReadOnly makes every mount in it read-only
	OpReadOnly OpKind = "read-only" // make Target (already inside the new root) read-only
	OpSymlink  OpKind = "symlink"   // a symlink at Target pointing to Data
	OpMkdir    OpKind = "mkdir"     // a directory at Target (Mode)
	OpCopy     OpKind = "copy"      // copy host file Source to Target (files that sit beside mounts)
	OpProc     OpKind = "proc"      // a new procfs for the sandbox's PID namespace
	OpSysfs    OpKind = "sysfs"     // read-only /sys: a new sysfs for a new netns, else the host's
	OpDevpts   OpKind = "devpts"    // a new devpts instance
	OpHide     OpKind = "hide"      // an empty read-only directory or file over Target (Source: empty file)
	OpRootRO   OpKind = "root-ro"   // make the new root's own mount read-only, not the mounts on it (last)
	OpCgroup   OpKind = "cgroup2"   // the sandbox's own cgroup (its cgroup namespace's root), read-only
)

// Overlay drivers.
const (
	DriverKernel = "kernel"
	DriverFuse   = "fuse-overlayfs"
	// DriverHostFS is the kernel overlay over sbx's own FUSE view of the
	// host (package hostfs), which shows the host's root-owned files as
	// root's inside: for an unprivileged caller, the only view in which
	// every write works.
	DriverHostFS = "hostfs"
	// DriverBinds is no overlay: --rootfs ro where the kernel refuses
	// overlayfs in a user namespace shows the host's directories as
	// read-only binds, whose unix sockets stay connectable.
	DriverBinds = "binds"
)

// Op is one setup operation. Targets are paths inside the new root.
type Op struct {
	Kind     OpKind `json:"kind"`
	Source   string `json:"source,omitempty"`
	Target   string `json:"target"`
	Upper    string `json:"upper,omitempty"`
	Work     string `json:"work,omitempty"`
	Data     string `json:"data,omitempty"`
	Mode     uint32 `json:"mode,omitempty"`
	ReadOnly bool   `json:"read_only,omitempty"`
	// Optional ops are skipped when their target or source is missing.
	Optional bool `json:"optional,omitempty"`
	// Beneath, when set, is a directory the command can write (the
	// workdir, a read-write bind): Source is reached from it without
	// following any symlink, and mounted from that descriptor, so a link
	// planted by an earlier run cannot redirect the mount to a host path.
	Beneath string `json:"beneath,omitempty"`
	// InRoot makes a bind's Source a path inside the new root (what an
	// earlier op mounted there), not the host's.
	InRoot bool `json:"in_root,omitempty"`
}

// Layer ties an overlay's upper directory to the path where it is mounted,
// so the changes it holds can be named after the run.
type Layer struct {
	Target string `json:"target"`
	Lower  string `json:"lower"`
	Upper  string `json:"upper"`
}

// Plan is the ordered list of operations that builds the root.
//
// The root starts as a tmpfs. Every operation that creates something there,
// outside what other operations mount, builds the skeleton: the directories
// made from their children (/, and any directory that holds host mounts),
// their small files and symlinks, and the mount points. With Root set, that
// skeleton then becomes the lower layer of an overlay mounted over the
// whole root, so what the command writes there (a file in /, or beside a
// mount) lands on disk in Root.Upper and is named by --diff and --keep like
// any other change. The remaining operations, the mounts, go on top.
type Plan struct {
	Ops []Op `json:"ops"`
	// Root is the overlay over the skeleton (Target "/", Upper, Work), or
	// nil for a read-only root.
	Root   *Op     `json:"root,omitempty"`
	Layers []Layer `json:"layers"`
	// Git are the overlays over the workdir's git directories.
	Git []GitLayer `json:"git,omitempty"`
	// Driver is the overlay implementation: DriverKernel or DriverFuse.
	Driver string `json:"driver"`
	// FuseOverlayfs is the host path of the fuse-overlayfs binary (DriverFuse).
	FuseOverlayfs string `json:"fuse_overlayfs,omitempty"`
	// HostFS is the FUSE view of the host under the root's overlay
	// (DriverHostFS), or nil.
	HostFS *HostFS `json:"hostfs,omitempty"`
	// KeepUpper is set when the upper layers outlive the run (--keep); they
	// are otherwise mounted volatile: the kernel skips syncing the upper
	// file system, which made each run's teardown wait on the disk.
	KeepUpper bool `json:"keep_upper,omitempty"`
}

// isMount tells the operations that mount something at their target from
// those that create it.
func isMount(k OpKind) bool {
	switch k {
	case OpMkdir, OpSymlink, OpCopy:
		return false
	}
	return true
}

// skeletonOps marks the operations whose target lies in the skeleton: not
// at or under the target of an earlier mount.
func skeletonOps(ops []Op) []bool {
	marks := make([]bool, len(ops))
	var mounted []string
	for i, op := range ops {
		if op.Kind == OpRootRO {
			continue
		}
		covered := false
		for _, m := range mounted {
			if under(op.Target, m) {
				covered = true
				break
			}
		}
		marks[i] = !covered
		if isMount(op.Kind) {
			mounted = append(mounted, op.Target)
		}
	}
	return marks
}

// HostFS is where the child mounts the FUSE view of the host, and what the
// parent's server leaves out of it.
type HostFS struct {
	// Mount is the host directory (in the state) the child mounts it on;
	// the root's overlay takes it as its lower layer, above the skeleton.
	Mount string `json:"mount"`
	// Empty are paths served empty: the directories the sandbox replaces,
	// and what it hides.
	Empty []string `json:"empty"`
	// Absent are paths never served: sbx's own state.
	Absent []string `json:"absent"`
}
