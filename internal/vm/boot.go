package vm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Boot builds sbx and probe, writes the initramfs and the disk, boots the
// suite under qemu and returns what it reported. The error is for what
// kept the suite from running or finishing (a build, qemu, the timeout);
// whether the scripts passed is the Result's Err.
func Boot(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(ctx); err != nil {
		return nil, err
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "sbx-vm-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	initrd, disk, err := prepare(ctx, o)
	if err != nil {
		return nil, err
	}
	if k, err := directBoot(ctx, o.Kernel.Image, o.Dir); err != nil {
		fmt.Fprintf(o.Console, "sbx-vm: booting the compressed kernel (slower): %v\n", err)
	} else {
		o.Kernel.Image = k
	}
	return run(ctx, o, initrd, disk)
}

// prepare builds the binaries and writes the initramfs and the disk image.
func prepare(ctx context.Context, o Options) (initrd, disk string, err error) {
	scripts := filepath.Join(o.Root, "testscripts", "vm")
	if st, err := os.Stat(filepath.Join(scripts, o.Suite)); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("no suite %q: %s is not a directory", o.Suite, filepath.Join(scripts, o.Suite))
	}
	if err := checkStatic(o.Busybox); err != nil {
		return "", "", err
	}
	mods, err := loadOrder(o.Kernel.Modules, vmModules)
	if err != nil {
		return "", "", err
	}
	sbx, probe, err := buildBinaries(ctx, o.Root, filepath.Join(o.Dir, "bin"))
	if err != nil {
		return "", "", err
	}
	initrd = filepath.Join(o.Dir, "initramfs.cpio")
	err = writeInitramfs(initrd, image{busybox: o.Busybox, sbx: sbx, probe: probe, scripts: scripts, modules: mods})
	if err != nil {
		return "", "", fmt.Errorf("writing the initramfs: %w", err)
	}
	if st, err := os.Stat(initrd); err == nil {
		fmt.Fprintf(o.Console, "sbx-vm: initramfs %.1f MiB\n", float64(st.Size())/(1<<20))
	}
	disk = filepath.Join(o.Dir, "disk.raw")
	if err := writeDisk(disk, int64(o.DiskMiB)<<20); err != nil {
		return "", "", fmt.Errorf("writing the disk image: %w", err)
	}
	return initrd, disk, nil
}
