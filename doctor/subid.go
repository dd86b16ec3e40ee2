package doctor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// minSubIDs is the range a distribution gives each user (useradd's
// SUB_UID_COUNT) and what images with ids up to 65535 need.
const minSubIDs = 65536

// subRange is one line of /etc/subuid or /etc/subgid: owner:start:count.
type subRange struct {
	owner        string
	start, count int
}

// parseSubRanges reads every well-formed line; comments, blank lines and
// lines that do not parse are skipped, as shadow's own parser does.
func parseSubRanges(r io.Reader) []subRange {
	var out []subRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || f[0] == "" {
			continue
		}
		start, err1 := strconv.Atoi(f[1])
		count, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || start < 0 || count <= 0 {
			continue
		}
		out = append(out, subRange{f[0], start, count})
	}
	return out
}

// ParseSubIDs finds user's subordinate id range in an /etc/subuid or
// /etc/subgid file. A line matches by login name or by numeric uid (pass
// uid < 0 to match by name only); when several match, the largest range
// wins (the first of equals), because sbx maps one contiguous range.
func ParseSubIDs(r io.Reader, user string, uid int) (start, count int, ok bool) {
	uidStr := ""
	if uid >= 0 {
		uidStr = strconv.Itoa(uid)
	}
	for _, s := range parseSubRanges(r) {
		if (user != "" && s.owner == user) || (uidStr != "" && s.owner == uidStr) {
			if !ok || s.count > count {
				start, count, ok = s.start, s.count, true
			}
		}
	}
	return start, count, ok
}

// freeSubRange returns the first start at or above 100000 (useradd's
// SUB_UID_MIN) past every range already allotted, so the fix never
// overlaps another user's ids.
func freeSubRange(ranges []subRange) int {
	start := 100000
	for _, s := range ranges {
		if end := s.start + s.count; end > start {
			start = end
		}
	}
	return start
}

// idHelperPrivileged: newuidmap must be setuid root or carry file
// capabilities, else it cannot write another process's uid_map.
func idHelperPrivileged(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && st.Mode()&os.ModeSetuid != 0 && sys.Uid == 0 {
		return true
	}
	return hasFileCaps(path)
}

func (c *checker) subuid() Check {
	ck := Check{Name: "subuid"}
	var missing, fixes, notPriv []string
	needInstall := false
	for _, name := range []string{"newuidmap", "newgidmap"} {
		path, err := c.h.LookPath(name)
		switch {
		case err != nil:
			missing = append(missing, name+" not in PATH")
			needInstall = true
		case !idHelperPrivileged(path):
			missing = append(missing, path+" is neither setuid root nor has file capabilities")
			notPriv = append(notPriv, path)
		}
	}
	if needInstall {
		fixes = append(fixes, c.install("uidmap"))
	}
	if len(notPriv) > 0 {
		fixes = append(fixes, "sudo chmod u+s "+strings.Join(notPriv, " "))
	}

	var add []string
	found := map[string]subRange{}
	for _, kind := range []string{"uid", "gid"} {
		file := join(c.h.Etc, "sub"+kind)
		b, _ := os.ReadFile(file) // a missing file is an empty one
		start, count, ok := ParseSubIDs(strings.NewReader(string(b)), c.h.UserName, c.h.UID)
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("no range for %s in %s", c.who(), file))
		case count < minSubIDs:
			missing = append(missing, fmt.Sprintf("%s has %d ids for %s, fewer than %d", file, count, c.who(), minSubIDs))
		default:
			found[kind] = subRange{c.h.UserName, start, count}
			continue
		}
		free := freeSubRange(parseSubRanges(strings.NewReader(string(b))))
		add = append(add, fmt.Sprintf("--add-sub%ss %d-%d", kind, free, free+minSubIDs-1))
	}
	if len(add) > 0 {
		fixes = append(fixes, "sudo usermod "+strings.Join(add, " ")+" "+c.userLabel())
	}

	if len(missing) == 0 {
		ck.Status = OK
		u, g := found["uid"], found["gid"]
		if u.start == g.start && u.count == g.count {
			ck.Detail = mapping("ids", u) // the usual case: one range for both
		} else {
			ck.Detail = mapping("uids", u) + ", " + mapping("gids", g)
		}
		return ck
	}
	ck.Status = Warn
	ck.Detail = strings.Join(missing, ", ") + "; only one id maps, so chown inside fails"
	ck.Fix = strings.Join(fixes, " && ")
	return ck
}

// mapping describes a range as sbx maps it: inside id 0 is the caller,
// ids from 1 up are the subordinate range, up to 65535 (ids inside stop at
// 65535, enough for every system user a distribution creates).
func mapping(label string, s subRange) string {
	n := min(s.count, 65535)
	return fmt.Sprintf("%s 1..%d map to %d..%d", label, n, s.start, s.start+n-1)
}

// who names the user in details: name and uid, or the uid alone.
func (c *checker) who() string {
	if c.h.UserName != "" {
		return fmt.Sprintf("%s (uid %d)", c.h.UserName, c.h.UID)
	}
	return fmt.Sprintf("uid %d", c.h.UID)
}
