package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// vmModules are the modules the VM needs that Debian builds as modules:
// the virtio disk (through PCI), and FUSE, overlayfs and TUN, which sbx
// uses. What they depend on is found in their .modinfo and loaded first.
var vmModules = []string{"virtio_pci", "virtio_blk", "fuse", "overlay", "tun"}

// module is one kernel module, uncompressed, ready for busybox insmod
// (which neither reads modules.dep, which the package does not ship, nor
// decompresses).
type module struct {
	name string
	data []byte
}

// loadOrder returns the modules named and their dependencies, each after
// the modules it depends on. Modules built into the kernel are left out.
func loadOrder(dir string, names []string) ([]module, error) {
	builtin, err := builtinModules(dir)
	if err != nil {
		return nil, err
	}
	files, err := moduleFiles(dir)
	if err != nil {
		return nil, err
	}
	var order []module
	state := map[string]int{} // 1: being visited, 2: done
	var visit func(name, by string) error
	visit = func(name, by string) error {
		name = modName(name)
		switch {
		case state[name] == 2 || builtin[name]:
			return nil
		case state[name] == 1:
			return fmt.Errorf("kernel module %s: a dependency cycle", name)
		}
		state[name] = 1
		file, ok := files[name]
		if !ok {
			return fmt.Errorf("kernel module %s%s is neither in %s nor built in", name, by, dir)
		}
		data, err := readModule(file)
		if err != nil {
			return err
		}
		deps, err := moduleDepends(data)
		if err != nil {
			return fmt.Errorf("kernel module %s: %w", file, err)
		}
		for _, d := range deps {
			if err := visit(d, " (needed by "+name+")"); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, module{name: name, data: data})
		return nil
	}
	for _, n := range names {
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// modName is a module's name as the kernel spells it: dashes in file
// names are underscores to the kernel.
func modName(s string) string {
	s = filepath.Base(s)
	if i := strings.Index(s, ".ko"); i >= 0 {
		s = s[:i]
	}
	return strings.ReplaceAll(s, "-", "_")
}

// builtinModules reads modules.builtin: one path per built-in module.
func builtinModules(dir string) (map[string]bool, error) {
	f, err := os.Open(filepath.Join(dir, "modules.builtin"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	set := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			set[modName(line)] = true
		}
	}
	return set, sc.Err()
}

// moduleFiles maps each module's name to its file under dir.
func moduleFiles(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Contains(d.Name(), ".ko") {
			files[modName(d.Name())] = p
		}
		return nil
	})
	return files, err
}

// readModule reads a module file, decompressing it where newer kernel
// packages compress their modules (xz, zstd: through the tools, which
// such a host has; gzip in Go).
func readModule(path string) ([]byte, error) {
	switch filepath.Ext(path) {
	case ".ko":
		return os.ReadFile(path)
	case ".gz":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return io.ReadAll(z)
	case ".xz", ".zst":
		tool := map[string]string{".xz": "xz", ".zst": "zstd"}[filepath.Ext(path)]
		out, err := exec.Command(tool, "-dc", path).Output()
		if err != nil {
			return nil, fmt.Errorf("decompressing %s with %s: %w", path, tool, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: not a kernel module file name", path)
}

// moduleDepends reads the "depends=" entry of a module's .modinfo section:
// the modules it needs, comma-separated.
func moduleDepends(data []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			if len(v) == 0 {
				return nil, nil
			}
			return strings.Split(string(v), ","), nil
		}
	}
	return nil, nil
}
