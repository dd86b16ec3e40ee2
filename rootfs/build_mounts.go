package rootfs

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sbx-sandbox/sbx/spec"
)

// What goes on top of the host view: the sandbox's own system mounts, the
// workdir, hidden secrets, the user's mounts in order, and the protections
// for sbx's binary and the run's state.

// system adds the sandbox's own /proc, /sys, /dev, /tmp, /run and the files
// that name its host.
func (b *builder) system() {
	b.add(Op{Kind: OpProc, Target: "/proc"})
	for _, p := range procMasked {
		b.add(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: p, Optional: true})
	}
	for _, p := range procReadOnly {
		b.add(Op{Kind: OpReadOnly, Target: p, Optional: true})
	}
	sysfs := Op{Kind: OpSysfs, Target: "/sys"}
	if b.in.Spec.Net == spec.NetHost {
		sysfs.Source = "/sys" // shared netns: the host's /sys, read-only
	}
	b.add(sysfs)
	b.add(Op{Kind: OpTmpfs, Target: "/dev", Mode: 0o755, Data: "nosuid,noexec"})
	for _, n := range devNodes {
		b.add(Op{Kind: OpBind, Source: "/dev/" + n, Target: "/dev/" + n, Optional: true})
	}
	b.add(Op{Kind: OpDevpts, Target: "/dev/pts"})
	b.add(Op{Kind: OpSymlink, Target: "/dev/ptmx", Data: "pts/ptmx"})
	b.add(Op{Kind: OpTmpfs, Target: "/dev/shm", Mode: 0o1777, Data: "nosuid,nodev"})
	for name, to := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		b.add(Op{Kind: OpSymlink, Target: "/dev/" + name, Data: to})
	}
	sortTail(b.plan.Ops, 4) // map order above; keep plans reproducible
	b.add(Op{Kind: OpTmpfs, Target: "/tmp", Mode: 0o1777, Data: "nosuid,nodev"})
	b.add(Op{Kind: OpTmpfs, Target: "/run", Mode: 0o755, Data: "nosuid,nodev"})
	if fi, err := b.in.Host.Lstat("/etc"); err == nil && fi.IsDir() {
		b.add(Op{Kind: OpBind, Source: b.in.State.Hosts(), Target: "/etc/hosts"})
		b.add(Op{Kind: OpBind, Source: b.in.State.Hostname(), Target: "/etc/hostname"})
	}
}

// workdir binds the working directory read-write and keeps the places
// where git finds code to run later (hooks, config) read-only.
func (b *builder) workdir() {
	w := b.in.Spec.Workdir
	b.add(Op{Kind: OpBind, Source: w, Target: w})
	for _, p := range []string{".git/hooks", ".git/config"} {
		full := filepath.Join(w, p)
		if _, err := b.in.Host.Lstat(full); err == nil {
			b.add(Op{Kind: OpBind, Source: full, Target: full, ReadOnly: true})
		}
	}
}

func (b *builder) secrets() {
	var paths []string
	if b.in.Home != "" && b.in.Home != "/" {
		for _, s := range HomeSecrets {
			paths = append(paths, filepath.Join(b.in.Home, s))
		}
	}
	paths = append(paths, RunnerSecrets...)
	for _, p := range paths {
		if _, err := b.in.Host.Lstat(p); err != nil {
			continue
		}
		// Hiding a directory that holds the workdir would hide the
		// workdir too; the caller chose to work there.
		if under(b.in.Spec.Workdir, p) {
			continue
		}
		b.add(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: p, Optional: true})
	}
}

func (b *builder) userMounts() error {
	for _, m := range b.in.Spec.Mounts {
		switch m.Kind {
		case spec.MountBind, spec.MountROBind:
			if _, err := b.in.Host.Lstat(m.Source); err != nil {
				return fmt.Errorf("--%s %s: %w", m.Kind, m.Source, err)
			}
			b.add(Op{Kind: OpBind, Source: m.Source, Target: m.Target, ReadOnly: m.Kind == spec.MountROBind})
		case spec.MountTmpfs:
			b.add(Op{Kind: OpTmpfs, Target: m.Target, Mode: 0o1777, Data: "nosuid,nodev"})
		case spec.MountHide:
			b.add(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: m.Target})
		default:
			return fmt.Errorf("unknown mount kind %q", m.Kind)
		}
	}
	return nil
}

// protectSelf binds sbx's own binary read-only over itself wherever the
// workdir or a read-write --bind shows it inside.
func (b *builder) protectSelf() {
	if b.in.Self == "" {
		return
	}
	for _, p := range b.writableInside(b.in.Self) {
		b.add(Op{Kind: OpBind, Source: b.in.Self, Target: p, ReadOnly: true, Optional: true})
	}
}

// hideState hides the run state (upper layers, --keep) where the workdir or
// a read-write --bind would show it: the command must not reach under its
// own overlays.
func (b *builder) hideState() {
	for _, a := range b.in.Avoid {
		for _, p := range b.writableInside(a) {
			b.add(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: p, Optional: true})
		}
	}
}

// writableInside lists the paths where host path p appears inside through
// the read-write workdir or a read-write --bind.
func (b *builder) writableInside(p string) []string {
	var inside []string
	if w := b.in.Spec.Workdir; w != "/" && under(p, w) {
		inside = append(inside, p)
	}
	for _, m := range b.in.Spec.Mounts {
		if m.Kind == spec.MountBind && m.Source != "/" && under(p, m.Source) {
			inside = append(inside, filepath.Join(m.Target, strings.TrimPrefix(p, m.Source)))
		}
	}
	return inside
}

// sortTail sorts the last n ops by target.
func sortTail(ops []Op, n int) {
	tail := ops[len(ops)-n:]
	sort.Slice(tail, func(i, j int) bool { return tail[i].Target < tail[j].Target })
}
