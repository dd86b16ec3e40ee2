package vm

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// image is what goes into the initramfs.
type image struct {
	busybox string   // a static busybox: the shell, the tools, PID 1's language
	sbx     string   // static sbx → /bin/sbx
	probe   string   // static probe → /bin/probe
	scripts string   // testscripts/vm: /init, and the rest under /vm
	modules []module // loaded by /init in this order
}

// writeInitramfs writes the image as an uncompressed newc archive (the
// kernel takes it as is; compressing would only cost time on both sides).
//
// Layout: /init (testscripts/vm/init), /vm/… (the rest of testscripts/vm:
// the runner, lib.sh, the suites), /bin/busybox (its applet links are made
// by /init), /bin/sbx, /bin/probe, /lib/modules/NAME.ko with
// /lib/modules/load listing them in load order, /dev/console, which the
// kernel opens as PID 1's stdio before anything is mounted, and the user
// session (systemd --user, dbus-daemon, at their host paths: addSession).
func writeInitramfs(path string, img image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	c := newCPIO(w)

	for _, d := range []string{"dev", "proc", "sys", "tmp", "run", "etc", "root", "home", "newroot"} {
		c.Dir(d, 0o755)
	}
	c.CharDev("dev/console", 0o600, 5, 1)
	c.CharDev("dev/null", 0o666, 1, 3)

	for _, b := range []struct{ from, to string }{
		{img.busybox, "bin/busybox"}, {img.sbx, "bin/sbx"}, {img.probe, "bin/probe"},
	} {
		data, err := os.ReadFile(b.from)
		if err != nil {
			return err
		}
		c.File(b.to, 0o755, data)
	}

	var load strings.Builder
	for _, m := range img.modules {
		c.File("lib/modules/"+m.name+".ko", 0o644, m.data)
		fmt.Fprintln(&load, m.name)
	}
	c.File("lib/modules/load", 0o644, []byte(load.String()))

	if err := addScripts(c, img.scripts); err != nil {
		return err
	}
	if err := addSession(c, img.scripts); err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// addScripts copies the testscripts/vm tree: its init to /init, where the
// kernel runs it, and everything to /vm. Executable files stay executable.
func addScripts(c *cpioWriter, dir string) error {
	init, err := os.ReadFile(filepath.Join(dir, "init"))
	if err != nil {
		return fmt.Errorf("the VM's init: %w", err)
	}
	c.File("init", 0o755, init)
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(filepath.Join("vm", rel))
		switch {
		case d.IsDir():
			c.Dir(name, 0o755)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			perm := fs.FileMode(0o644)
			if info.Mode()&0o111 != 0 {
				perm = 0o755
			}
			c.File(name, perm, data)
		}
		return nil
	})
}
