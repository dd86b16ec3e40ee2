package vm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleRoot is the root of the sbx module around the current directory,
// where the go command finds it.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the sbx module (go env GOMOD is empty); set Options.Root")
	}
	return filepath.Dir(mod), nil
}

// buildBinaries builds sbx (the module's root package) and probe into
// dir, static: the initramfs has no C library for them to load.
func buildBinaries(ctx context.Context, root, dir string) (sbx, probe string, err error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), ".", "./internal/probe")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("building sbx and probe: %v\n%s", err, out)
	}
	return filepath.Join(dir, "sbx"), filepath.Join(dir, "probe"), nil
}
