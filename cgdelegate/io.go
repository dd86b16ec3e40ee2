package cgdelegate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// sysDevBlock is where sysfs lists block devices by number; a variable for
// tests.
var sysDevBlock = "/sys/dev/block"

// blockDevice stats path, following links (/dev/disk/by-id/...), and
// returns the numbers of the block device it is.
func blockDevice(path string) (uint32, uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, 0, fmt.Errorf("%s is not a block device", path)
	}
	return unix.Major(st.Rdev), unix.Minor(st.Rdev), nil
}

// wholeDisk refuses a partition, naming its disk: io.max takes disks only.
// sysfs says which it is (a partition has a "partition" file, and its
// parent directory is the disk); without sysfs nothing is refused here and
// the kernel's ENODEV on the write says it.
func wholeDisk(major, minor uint32, dev string) error {
	num := fmt.Sprintf("%d:%d", major, minor)
	sys := filepath.Join(sysDevBlock, num)
	if _, err := os.Stat(filepath.Join(sys, "partition")); err != nil {
		return nil
	}
	disk := "its disk"
	if real, err := filepath.EvalSymlinks(sys); err == nil {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(real), "dev")); err == nil {
			name := filepath.Base(filepath.Dir(real))
			disk = "disk " + strings.TrimSpace(string(b)) + " (/dev/" + name + ")"
		}
	}
	if dev != num {
		dev += " (" + num + ")"
	}
	return fmt.Errorf("%s is a partition; I/O limits apply to whole disks only: name %s", dev, disk)
}

// SetIO writes io.max: one line per device, "MAJ:MIN rbps=N wbps=N", with
// only the limits asked for (the kernel leaves the others as they are; in
// a new cgroup, max). A device in both lists gets one line with both; a
// device twice in one list keeps the last rate. Each line is a write of
// its own, as the kernel takes one device per write.
func SetIO(dir string, read, write []IOLimit) error {
	type rates struct{ r, w int64 }
	var order []string
	byDev := make(map[string]*rates)
	add := func(l IOLimit, set func(*rates)) {
		key := fmt.Sprintf("%d:%d", l.Major, l.Minor)
		if byDev[key] == nil {
			byDev[key] = &rates{}
			order = append(order, key)
		}
		set(byDev[key])
	}
	for _, l := range read {
		if l.BytesPerSec <= 0 {
			return fmt.Errorf("read limit for %s: %d bytes per second is not a limit", l.Dev, l.BytesPerSec)
		}
		add(l, func(r *rates) { r.r = l.BytesPerSec })
	}
	for _, l := range write {
		if l.BytesPerSec <= 0 {
			return fmt.Errorf("write limit for %s: %d bytes per second is not a limit", l.Dev, l.BytesPerSec)
		}
		add(l, func(r *rates) { r.w = l.BytesPerSec })
	}
	if len(order) == 0 {
		return nil
	}
	lines := make([]string, 0, len(order))
	for _, key := range order {
		line := key
		if r := byDev[key]; r.r > 0 {
			line += " rbps=" + strconv.FormatInt(r.r, 10)
		}
		if r := byDev[key]; r.w > 0 {
			line += " wbps=" + strconv.FormatInt(r.w, 10)
		}
		lines = append(lines, line)
	}
	err := writeLines(dir, "io.max", lines)
	if errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("%w (io.max takes whole disks, and no partition)", err)
	}
	return err
}

// IOStat is one device's line of io.stat.
type IOStat struct {
	Major, Minor   uint32
	RBytes, WBytes int64 // bytes read and written
	RIOs, WIOs     int64 // read and write operations
}

// ReadIO reads io.stat: nil when it is missing. A line without the
// counters (or not keyed MAJ:MIN) is left out rather than read as zero.
func ReadIO(dir string) []IOStat {
	s, err := readFile(dir, "io.stat")
	if err != nil {
		return nil
	}
	var stats []IOStat
	for _, l := range parseNested(s) {
		major, minor, err := parseDevNumber(l.Key)
		if err != nil {
			continue
		}
		st := IOStat{Major: major, Minor: minor}
		ok := true
		for name, p := range map[string]*int64{"rbytes": &st.RBytes, "wbytes": &st.WBytes, "rios": &st.RIOs, "wios": &st.WIOs} {
			v, err := strconv.ParseInt(l.Fields[name], 10, 64)
			ok = ok && err == nil
			*p = v
		}
		if ok {
			stats = append(stats, st)
		}
	}
	return stats
}
