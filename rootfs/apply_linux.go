package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Apply builds the new root in dir (a host directory, seen from the child's
// private mount namespace) by applying the plan's operations in order, then
// makes it the root with pivot_root. With a FUSE view of the host, serve is
// given its /dev/fuse descriptor to hand to the server.
func Apply(p *Plan, dir string, serve func(dev int) error) error {
	// Nothing mounted here may reach the host, nor the host's mounts here.
	if err := mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	if p.HostFS != nil {
		if err := mountHostFS(p.HostFS.Mount, serve); err != nil {
			return fmt.Errorf("the FUSE view of the host: %w; see `sbx doctor` (fuse-host-view)", err)
		}
	}
	if err := mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return err
	}
	root, err := openRoot(dir)
	if err != nil {
		return err
	}
	a := &applier{root: root, plan: p}
	defer func() { a.root.close() }()
	// The skeleton first (see Plan), then the root's overlay over it, then
	// the mounts on top.
	inSkeleton := skeletonOps(p.Ops)
	for i, op := range p.Ops {
		if err := a.skeleton(op, inSkeleton[i]); err != nil && !skippable(op, err) {
			return fmt.Errorf("%s %s: %w", op.Kind, op.Target, err)
		}
	}
	if p.Root != nil {
		if err := a.rootOverlay(dir); err != nil {
			return fmt.Errorf("overlay over the root: %w", err)
		}
	}
	for i, op := range p.Ops {
		if inSkeleton[i] && !isMount(op.Kind) {
			continue // made in the skeleton
		}
		if err := a.apply(op); err != nil && !skippable(op, err) {
			return fmt.Errorf("%s %s: %w", op.Kind, op.Target, err)
		}
	}
	return pivot(dir)
}

func skippable(op Op, err error) bool {
	return op.Optional && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES))
}

// skeleton does op's part in the skeleton: all of an operation that
// creates something there, only the mount point of a mount.
func (a *applier) skeleton(op Op, inSkeleton bool) error {
	if !inSkeleton {
		return nil
	}
	if !isMount(op.Kind) {
		return a.apply(op)
	}
	if a.plan.HostFS != nil && (op.Kind == OpHide || op.Kind == OpReadOnly) {
		// Over something the host's view shows, above the skeleton.
		return nil
	}
	isDir, mode, err := a.mountPoint(op)
	if err != nil {
		return err
	}
	var fd int
	if isDir {
		fd, err = a.root.mkdirAll(op.Target, mode)
	} else {
		fd, err = a.root.mkfile(op.Target, 0o644)
	}
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// mountPoint says what op mounts on: a directory (with the mode to make it
// with) or a file.
func (a *applier) mountPoint(op Op) (isDir bool, mode uint32, err error) {
	switch op.Kind {
	case OpOverlay:
		return true, sourceDirMode(op.Source), nil
	case OpProc, OpSysfs, OpCgroup:
		return true, 0o555, nil
	case OpBind:
		fi, err := os.Stat(op.Source)
		if err != nil {
			return false, 0, err
		}
		return fi.IsDir(), 0o755, nil
	case OpHide, OpReadOnly:
		// Over something already there: nothing to make.
		fd, err := a.root.open(op.Target, 0)
		if err != nil {
			return false, 0, err
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		unix.Close(fd)
		return st.Mode&unix.S_IFMT == unix.S_IFDIR, 0o755, err
	}
	return true, 0o755, nil
}

// rootOverlay mounts the root's overlay over the skeleton in dir (its own
// lower: the path still names the tmpfs when the overlay's options are
// read) and makes it the root the remaining operations build in.
func (a *applier) rootOverlay(dir string) error {
	op := *a.plan.Root
	op.Source, op.Target = dir, "/"
	// With the FUSE view, the host goes above the skeleton: the host's
	// directories keep their own attributes, the skeleton adds the mount
	// points the host lacks.
	above := ""
	if a.plan.HostFS != nil {
		above = a.plan.HostFS.Mount
	}
	if err := a.overlayOn(op, a.root.fd, above); err != nil {
		return err
	}
	root, err := openRoot(dir)
	if err != nil {
		return err
	}
	a.root.close()
	a.root = root
	return nil
}

type applier struct {
	root *inRoot
	plan *Plan
}

func (a *applier) apply(op Op) error {
	switch op.Kind {
	case OpMkdir:
		fd, err := a.root.mkdirAll(op.Target, op.Mode)
		if err == nil {
			unix.Close(fd)
		}
		return err
	case OpSymlink:
		return a.symlink(op)
	case OpCopy:
		return a.copyFile(op)
	case OpTmpfs:
		return a.onDir(op.Target, 0o755, func(t string) error {
			return mount("tmpfs", t, "tmpfs", tmpfsFlags(op.Data), fmt.Sprintf("mode=%#o", op.Mode))
		})
	case OpOverlay:
		return a.overlay(op)
	case OpBind:
		return a.bind(op)
	case OpReadOnly:
		fd, err := a.root.open(op.Target, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := mount(procPath(fd), procPath(fd), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
		return a.readOnly(op.Target)
	case OpProc:
		return a.onDir(op.Target, 0o555, func(t string) error {
			return mount("proc", t, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		})
	case OpSysfs:
		return a.sysfs(op)
	case OpCgroup:
		return a.onDir(op.Target, 0o555, func(t string) error {
			return mount("cgroup2", t, "cgroup2", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		})
	case OpDevpts:
		return a.onDir(op.Target, 0o755, func(t string) error {
			return mount("devpts", t, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
		})
	case OpHide:
		return a.hide(op)
	case OpRootRO:
		return a.readOnlyTop()
	}
	return fmt.Errorf("unknown operation %q", op.Kind)
}

// onDir creates the directory target and runs mountFn on a path naming it.
func (a *applier) onDir(target string, mode uint32, mountFn func(string) error) error {
	fd, err := a.root.mkdirAll(target, mode)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return mountFn(procPath(fd))
}

func (a *applier) onFile(target string, mountFn func(string) error) error {
	fd, err := a.root.mkfile(target, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return mountFn(procPath(fd))
}

func (a *applier) readOnly(target string) error {
	fd, err := a.root.open(target, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return readOnly(fd, target)
}

// readOnlyTop makes the root's own tmpfs read-only, not the mounts on it.
func (a *applier) readOnlyTop() error {
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(a.root.fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		return fmt.Errorf("make the root read-only: %w", err)
	}
	return nil
}

func (a *applier) bind(op Op) error {
	src, isDir, done, err := a.bindSource(op)
	if err != nil {
		return err
	}
	defer done()
	do := func(t string) error {
		return mount(src, t, "", unix.MS_BIND|unix.MS_REC, "")
	}
	if isDir {
		err = a.onDir(op.Target, 0o755, do)
	} else {
		err = a.onFile(op.Target, do)
	}
	if err == nil && isDir {
		// A bound directory may hold device nodes (made on the host by
		// root, or planted in the workdir by an earlier run as root):
		// they open nothing inside. A device bound by itself
		// (--bind /dev/kvm) is what the caller asked for and keeps working.
		err = a.noDev(op.Target)
	}
	if err != nil || !op.ReadOnly {
		return err
	}
	return a.readOnly(op.Target)
}

// noDev makes target and the mounts below it nodev.
func (a *applier) noDev(target string) error {
	fd, err := a.root.open(target, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("make %s nodev: %w", target, err)
	}
	return nil
}

// sysfs mounts a new, read-only sysfs that shows the sandbox's own network
// namespace; with the host's netns (Source set) it binds the host's.
func (a *applier) sysfs(op Op) error {
	flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if op.Source == "" {
		err := a.onDir(op.Target, 0o555, func(t string) error {
			return mount("sysfs", t, "sysfs", flags, "")
		})
		if err == nil || !errors.Is(err, unix.EPERM) {
			return err
		}
		// Some hosts hide parts of /sys under other mounts, and the kernel
		// then refuses a new sysfs; the host's, read-only, is the fallback.
	}
	return a.bind(Op{Kind: OpBind, Source: "/sys", Target: op.Target, ReadOnly: true})
}

// hide covers a directory with an empty read-only tmpfs and a file with an
// empty read-only file.
func (a *applier) hide(op Op) error {
	fd, err := a.root.open(op.Target, 0)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return a.onDir(op.Target, 0o755, func(t string) error {
			return mount("tmpfs", t, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=0")
		})
	}
	return a.bind(Op{Kind: OpBind, Source: op.Source, Target: op.Target, ReadOnly: true})
}

func (a *applier) symlink(op Op) error {
	to := op.Data
	if op.Source != "" {
		var err error
		if to, err = os.Readlink(op.Source); err != nil {
			return err
		}
	}
	dirFD, name, err := a.root.parent(op.Target)
	if err != nil {
		return err
	}
	defer unix.Close(dirFD)
	if err := unix.Symlinkat(to, dirFD, name); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	return nil
}

// copyFile copies a host file that sits directly in a directory built from
// its children, so writing to it inside stays inside.
func (a *applier) copyFile(op Op) error {
	src, err := os.OpenFile(op.Source, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	dirFD, name, err := a.root.parent(op.Target)
	if err != nil {
		return err
	}
	defer unix.Close(dirFD)
	fd, err := unix.Openat(dirFD, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, op.Mode)
	if err != nil {
		return err
	}
	dst := os.NewFile(uintptr(fd), op.Target)
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	return dst.Chmod(os.FileMode(op.Mode))
}

// pivot makes dir the root and detaches the old one: pivot_root(".", ".")
// stacks the old root on the new one, and the lazy unmount removes it.
func pivot(dir string) error {
	if err := unix.Chdir(dir); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", dir, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return unix.Chdir("/")
}
