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
	OpRootRO   OpKind = "root-ro"   // make the new root's own tmpfs read-only (last)
)

// Overlay drivers.
const (
	DriverKernel = "kernel"
	DriverFuse   = "fuse-overlayfs"
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
}

// Layer ties an overlay's upper directory to the path where it is mounted,
// so the changes it holds can be named after the run.
type Layer struct {
	Target string `json:"target"`
	Lower  string `json:"lower"`
	Upper  string `json:"upper"`
}

// Plan is the ordered list of operations that builds the root.
type Plan struct {
	Ops    []Op    `json:"ops"`
	Layers []Layer `json:"layers"`
	// Driver is the overlay implementation: DriverKernel or DriverFuse.
	Driver string `json:"driver"`
	// FuseOverlayfs is the host path of the fuse-overlayfs binary (DriverFuse).
	FuseOverlayfs string `json:"fuse_overlayfs,omitempty"`
	// KeepUpper is set when the upper layers outlive the run (--keep); they
	// are otherwise mounted volatile: the kernel skips syncing the upper
	// file system, which made each run's teardown wait on the disk.
	KeepUpper bool `json:"keep_upper,omitempty"`
}
