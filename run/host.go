package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lookSystemPath finds a helper binary in PATH or the usual system places;
// setuid helpers live in /usr/bin even when PATH is minimal.
func lookSystemPath(name string) (string, error) {
	dirs := append(filepath.SplitList(os.Getenv("PATH")), "/usr/bin", "/bin", "/usr/sbin", "/sbin")
	for _, d := range dirs {
		if !strings.HasPrefix(d, "/") {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// selfPath is the host path of the running sbx binary, or "".
func selfPath() string {
	p, err := os.Readlink("/proc/self/exe")
	if err != nil || !filepath.IsAbs(p) {
		return ""
	}
	return p
}
