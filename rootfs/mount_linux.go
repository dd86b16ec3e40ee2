package rootfs

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// mountError names the operation the way a person would retype it.
func mountError(source, target, fstype string, flags uintptr, data string, err error) error {
	return fmt.Errorf("mount %q on %s (type %q, flags %#x, options %q): %w", source, target, fstype, flags, data, err)
}

func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return mountError(source, target, fstype, flags, data, err)
	}
	return nil
}

// readOnly makes the mount at path and every mount below it read-only.
// mount_setattr changes only the flag asked for, so locked flags (nosuid,
// nodev from the host) are kept, which a remount would have to repeat.
func readOnly(fd int, name string) error {
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("make %s read-only: %w", name, err)
	}
	return nil
}

// tmpfsFlags reads the mount flags named in an option list.
func tmpfsFlags(opts string) uintptr {
	var flags uintptr
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "nosuid":
			flags |= unix.MS_NOSUID
		case "nodev":
			flags |= unix.MS_NODEV
		case "noexec":
			flags |= unix.MS_NOEXEC
		case "ro":
			flags |= unix.MS_RDONLY
		}
	}
	return flags
}

// overlayPath escapes a path for overlayfs's option string, where ',' and
// ':' separate options and layers.
// (A loop rather than a strings.Replacer built on each call, which showed
// in PID 1's start-up profile.)
func overlayPath(p string) string {
	if !strings.ContainsAny(p, `\,:`) {
		return p
	}
	var b strings.Builder
	for _, c := range []byte(p) {
		if c == '\\' || c == ',' || c == ':' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
