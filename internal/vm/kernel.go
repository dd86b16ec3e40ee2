package vm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultKernelDir is where .ci/run extracts Debian's kernel package
// (dpkg-deb -x): boot/vmlinuz-VERSION and lib/modules/VERSION/ under it.
const DefaultKernelDir = "/var/cache/sbx-vm"

// The environment variables that point at another kernel: the image, and
// its modules directory (lib/modules/VERSION). Given only the image, the
// modules are looked for where the package puts them beside it.
const (
	KernelEnv  = "SBX_VM_KERNEL"
	ModulesEnv = "SBX_VM_MODULES"
)

// Kernel is the kernel the VM boots and the directory of its modules.
type Kernel struct {
	Image   string // vmlinuz
	Modules string // lib/modules/VERSION
}

// ErrNoKernel is wrapped by FindKernel's error when there is no kernel at
// all, as opposed to a kernel named by the environment that is not there.
var ErrNoKernel = errors.New("no kernel for the VM")

// FindKernel finds the kernel through the environment, else in
// DefaultKernelDir.
func FindKernel() (Kernel, error) {
	k := Kernel{Image: os.Getenv(KernelEnv), Modules: os.Getenv(ModulesEnv)}
	if k.Image == "" {
		images, _ := filepath.Glob(filepath.Join(DefaultKernelDir, "boot", "vmlinuz-*"))
		if len(images) == 0 {
			return k, fmt.Errorf("%w: no %s/boot/vmlinuz-* (.ci/run extracts Debian's kernel package there; or set %s and %s)",
				ErrNoKernel, DefaultKernelDir, KernelEnv, ModulesEnv)
		}
		sort.Strings(images)
		k.Image = images[len(images)-1]
	}
	if _, err := os.Stat(k.Image); err != nil {
		return k, fmt.Errorf("the VM's kernel: %w", err)
	}
	if k.Modules == "" {
		// A package's layout: ROOT/boot/vmlinuz-V and ROOT/lib/modules/V.
		// Newer packages (merged /usr) put them under usr/lib.
		version := strings.TrimPrefix(filepath.Base(k.Image), "vmlinuz-")
		root := filepath.Dir(filepath.Dir(k.Image))
		k.Modules = filepath.Join(root, "lib", "modules", version)
		if _, err := os.Stat(k.Modules); err != nil {
			k.Modules = filepath.Join(root, "usr", "lib", "modules", version)
		}
	}
	if _, err := os.Stat(filepath.Join(k.Modules, "modules.builtin")); err != nil {
		return k, fmt.Errorf("the VM's kernel modules (%s names the directory): %w", ModulesEnv, err)
	}
	return k, nil
}
