package vm

import (
	"debug/elf"
	"errors"
	"fmt"
	"os/exec"
)

// Missing says what this host lacks to boot the VM, each with its fix;
// nil when nothing is missing.
func Missing() error {
	var errs []error
	if _, err := exec.LookPath(Qemu); err != nil {
		errs = append(errs, fmt.Errorf("no %s (apt-get install qemu-system-x86, as .ci/run does)", Qemu))
	}
	if err := checkStatic(DefaultBusybox); err != nil {
		errs = append(errs, err)
	}
	if _, err := FindKernel(); err != nil {
		errs = append(errs, err)
	}
	if err := missingSession(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkStatic makes sure busybox is there and is a static binary: the
// initramfs has no dynamic loader or C library for it.
func checkStatic(path string) error {
	const fix = "apt-get install busybox-static, as .ci/run does"
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("no static busybox at %s (%s): %v", path, fix, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (%s)", path, fix)
		}
	}
	return nil
}
