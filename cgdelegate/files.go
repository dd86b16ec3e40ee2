package cgdelegate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxFileSize bounds what readFile takes in: interface files are a few
// lines (io.stat a line per device); more means something else is there.
const maxFileSize = 1 << 20

// openFlags for writing an interface file. No O_CREAT: the file exists
// when the controller is enabled, and creating one would hide that it is
// not. O_NOFOLLOW: the name is the kernel's, never a link. O_TRUNC is a
// no-op on cgroupfs (kernfs ignores size changes, and runc opens its
// writes the same way); on the plain files of a test it leaves exactly the
// value written, as the kernel would show it.
const openFlags = os.O_WRONLY | os.O_TRUNC | unix.O_NOFOLLOW | unix.O_CLOEXEC

// writeFile writes value to the interface file dir/name in one write(2),
// which is how the kernel takes a setting. The error names the value and
// the file and wraps the errno (fs.ErrNotExist when the file is missing).
func writeFile(dir, name, value string) error {
	return writeLines(dir, name, []string{value})
}

// writeLines writes each line in a write(2) of its own on one open file:
// files such as io.max take one device per write.
func writeLines(dir, name string, lines []string) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", strings.Join(lines, "; "), path, unwrapPath(err))
	}
	for _, line := range lines {
		if _, err := f.Write([]byte(line)); err != nil {
			f.Close()
			return fmt.Errorf("write %q to %s: %w", line, path, unwrapPath(err))
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %q to %s: %w", strings.Join(lines, "; "), path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the *PathError around an errno: the message names the
// file already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readFile reads the interface file dir/name. The error wraps
// fs.ErrNotExist when the file is missing.
func readFile(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("read %s: more than %d bytes", path, maxFileSize)
	}
	return string(b), nil
}

// parseFlat reads a flat-keyed file (memory.events, cpu.stat,
// cgroup.events): a "key value" pair a line. A line that is not a key and
// a whole number is left out, not guessed: a newer kernel may add fields,
// and the ones read here must not depend on them.
func parseFlat(s string) map[string]int64 {
	m := make(map[string]int64)
	for line := range strings.SplitSeq(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			m[f[0]] = v
		}
	}
	return m
}

// nestedLine is one line of a nested-keyed file (io.stat, io.max): a key,
// then "name=value" fields.
type nestedLine struct {
	Key    string
	Fields map[string]string
}

// parseNested reads a nested-keyed file: "8:0 rbytes=1 wbytes=2 ...". A
// field without "=" is left out.
func parseNested(s string) []nestedLine {
	var lines []nestedLine
	for line := range strings.SplitSeq(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		l := nestedLine{Key: f[0], Fields: make(map[string]string)}
		for _, kv := range f[1:] {
			if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
				l.Fields[k] = v
			}
		}
		lines = append(lines, l)
	}
	return lines
}

// readValue reads a single-value file that may say "max" (memory.max,
// pids.max): isMax is true then.
func readValue(dir, name string) (v int64, isMax bool, err error) {
	s, err := readFile(dir, name)
	if err != nil {
		return 0, false, err
	}
	s = strings.TrimSpace(s)
	if s == "max" {
		return 0, true, nil
	}
	v, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %q is not a number or max", filepath.Join(dir, name), s)
	}
	return v, false, nil
}

// optional reads a single-value accounting file: nil when the file is
// missing (an older kernel), unreadable, "max" or not a number.
func optional(dir, name string) *int64 {
	v, isMax, err := readValue(dir, name)
	if err != nil || isMax {
		return nil
	}
	return &v
}

// field is m[key] as a pointer: nil when the key is absent.
func field(m map[string]int64, key string) *int64 {
	v, ok := m[key]
	if !ok {
		return nil
	}
	return &v
}

// readFlat reads a flat-keyed file; a missing or unreadable file is an
// empty map, so that every field reads as absent.
func readFlat(dir, name string) map[string]int64 {
	s, err := readFile(dir, name)
	if err != nil {
		return nil
	}
	return parseFlat(s)
}
