package rootfs

import (
	"os/user"
	"path/filepath"
	"slices"
	"sort"

	"github.com/sbx-sandbox/sbx/spec"
)

// PasswdHome is the caller's home directory in the password database, or
// "" when it cannot be read.
func PasswdHome() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.HomeDir
}

// homes are the caller's home directories: $HOME and the password
// database's, each once. Relative ones and / are left out: nothing under
// them is the caller's own.
func (b *builder) homes() []string {
	var out []string
	for _, h := range []string{b.in.Home, b.in.PasswdHome} {
		if !filepath.IsAbs(h) {
			continue
		}
		if h = filepath.Clean(h); h != "/" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// emptiedHomes are the homes that --home empty replaces: those that exist
// on the host, outermost first, and none inside another (the outer tmpfs
// already covers it).
func (b *builder) emptiedHomes() []string {
	if b.in.Spec.Home != spec.HomeEmpty {
		return nil
	}
	homes := b.homes()
	sort.Slice(homes, func(i, j int) bool { return len(homes[i]) < len(homes[j]) })
	var out []string
	for _, h := range homes {
		if _, err := b.in.Host.Lstat(h); err != nil || underAny(h, out) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// home mounts an empty tmpfs over each emptied home. It comes before the
// workdir and the binds, which are mounted over it and so still show what
// lies under the home.
func (b *builder) home() {
	for _, h := range b.emptiedHomes() {
		b.add(Op{Kind: OpTmpfs, Target: h, Mode: 0o755, Data: "nosuid,nodev"})
	}
}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if under(p, d) {
			return true
		}
	}
	return false
}
