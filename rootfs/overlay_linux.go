package rootfs

import (
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// bindSource is what to mount for a bind: the host path, or, for an op
// with Beneath, its descriptor opened without following symlinks (the
// mount then binds exactly the object that was checked).
func (a *applier) bindSource(op Op) (src string, isDir bool, done func(), err error) {
	if op.InRoot {
		fd, err := a.root.open(op.Source, 0)
		if err != nil {
			return "", false, nil, err
		}
		return fdSource(fd)
	}
	if op.Beneath == "" {
		fi, err := os.Stat(op.Source)
		if err != nil {
			return "", false, nil, err
		}
		return op.Source, fi.IsDir(), func() {}, nil
	}
	fd, err := OpenBeneath(op.Beneath, op.Source, unix.O_PATH)
	if err != nil {
		return "", false, nil, err
	}
	return fdSource(fd)
}

// fdSource names the O_PATH descriptor fd as a bind's source.
func fdSource(fd int) (src string, isDir bool, done func(), err error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return "", false, nil, err
	}
	return procPath(fd), st.Mode&unix.S_IFMT == unix.S_IFDIR, func() { unix.Close(fd) }, nil
}

func (a *applier) overlay(op Op) error {
	fd, err := a.root.mkdirAll(op.Target, sourceDirMode(op.Source))
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := a.overlayOn(op, fd, ""); err != nil || !op.ReadOnly {
		return err
	}
	top, err := a.root.open(op.Target, unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(top)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(top, "", unix.AT_EMPTY_PATH, attr); err != nil {
		return fmt.Errorf("make %s read-only: %w", op.Target, err)
	}
	return nil
}

func sourceDirMode(p string) uint32 {
	if fi, err := os.Stat(p); err == nil {
		return uint32(fi.Mode().Perm())
	}
	return 0o755
}

// overlayOn mounts op's overlay on the directory fd. An op with Beneath
// takes its lower directory from a descriptor opened without following
// symlinks. above, when set, is a lower layer over op's own (the kernel
// driver only).
func (a *applier) overlayOn(op Op, fd int, above string) error {
	lower := overlayPath(op.Source)
	var lowerFile *os.File
	if op.Beneath != "" {
		lfd, err := OpenBeneath(op.Beneath, op.Source, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		lowerFile = os.NewFile(uintptr(lfd), op.Source)
		defer lowerFile.Close()
		lower = procPath(lfd)
	}
	if a.plan.Driver == DriverFuse {
		// The target travels as the helper's fd 3 and a checked lower as
		// its fd 4: /proc/self in it is its own descriptor table.
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return err
		}
		target := os.NewFile(uintptr(dup), op.Target)
		defer target.Close()
		extra := []*os.File{target}
		if lowerFile != nil {
			extra, lower = append(extra, lowerFile), "/proc/self/fd/4"
		}
		opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, overlayPath(op.Upper), overlayPath(op.Work))
		cmd := exec.Command(a.plan.FuseOverlayfs, "-o", opts, "/proc/self/fd/3")
		cmd.ExtraFiles = extra
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("fuse-overlayfs -o %s: %v: %s", opts, err, out)
		}
		return nil
	}
	if above != "" {
		lower = overlayPath(above) + ":" + lower
	}
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lower, overlayPath(op.Upper), overlayPath(op.Work))
	if !a.plan.KeepUpper {
		data += ",volatile"
	}
	return mount("overlay", procPath(fd), "overlay", 0, data)
}

// mountHostFS mounts a FUSE file system on dir, read-only, and hands its
// /dev/fuse descriptor to serve: the parent serves the host's view from
// outside every namespace. Requests wait in the kernel until it answers.
func mountHostFS(dir string, serve func(dev int) error) error {
	dev, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/fuse: %w", err)
	}
	defer unix.Close(dev)
	// Owned by root inside; the kernel checks access against the owners
	// served (default_permissions); open to every id inside, since the
	// command may run as any of them.
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other", dev)
	if err := mount("sbx-host", dir, "fuse.sbx-host", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, data); err != nil {
		return err
	}
	return serve(dev)
}
