package rootfs

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/sbx-sandbox/sbx/spec"
)

// What goes on top of the host view: the sandbox's own system mounts, the
// workdir, hidden secrets, the user's mounts in order, and the protections
// for sbx's binary and the run's state.

// system adds the sandbox's own /proc, /sys, /dev, /tmp, /run and the files
// that name its host.
func (b *builder) system() {
	b.add(Op{Kind: OpProc, Target: "/proc"})
	sysfs := Op{Kind: OpSysfs, Target: "/sys"}
	if b.in.Spec.Net == spec.NetHost {
		sysfs.Source = "/sys" // shared netns: the host's /sys, read-only
	}
	b.add(sysfs)
	if b.in.Spec.CgroupNS {
		// The run's own cgroup, over the host's or sysfs's empty mount
		// point: the sandbox sees its limits and usage, nothing above.
		b.add(Op{Kind: OpCgroup, Target: "/sys/fs/cgroup"})
	}
	// After both: a mask under /sys made before /sys is mounted would lie
	// beneath it.
	for _, p := range procMasked {
		b.add(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: p, Optional: true})
	}
	for _, p := range procReadOnly {
		b.add(Op{Kind: OpReadOnly, Target: p, Optional: true})
	}
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
		if b.in.Spec.Net == spec.NetSlirp {
			b.add(Op{Kind: OpBind, Source: b.in.State.ResolvConf(), Target: "/etc/resolv.conf"})
		}
	}
}

// workdir binds the working directory read-write; protectGit covers the
// places where git finds code to run later.
func (b *builder) workdir() {
	w := b.workdirArea()
	b.add(Op{Kind: OpBind, Source: w.host, Target: w.target})
}

// secrets hides the known places of keys and tokens: under each home, and
// the CI runners' credentials.
func (b *builder) secrets() {
	var paths []string
	emptied := b.emptiedHomes()
	for _, h := range b.homes() {
		if underAny(h, emptied) {
			continue // nothing of the host's is left there to hide
		}
		for _, s := range HomeSecrets {
			paths = append(paths, filepath.Join(h, s))
		}
	}
	paths = append(paths, RunnerSecrets...)
	w := b.workdirArea()
	for _, p := range paths {
		if _, err := b.in.Host.Lstat(p); err != nil {
			continue
		}
		// Hiding a directory that holds the workdir would hide the
		// workdir too; the caller chose to work there.
		if under(w.host, p) || under(w.given, p) {
			continue
		}
		b.add(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: p, Optional: true})
		// A workdir reached through a symlink shows the secret at a
		// second path.
		if inside, ok := w.inside(p); ok && inside != p {
			b.add(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: inside, Optional: true})
		}
	}
}

func (b *builder) userMounts() error {
	for i, m := range b.in.Spec.Mounts {
		switch m.Kind {
		case spec.MountBind, spec.MountROBind:
			op := Op{Kind: OpBind, Source: m.Source, Target: m.Target, ReadOnly: m.Kind == spec.MountROBind}
			// Under the workdir or an earlier read-write bind, the source
			// may have been replaced by a symlink from inside.
			for _, area := range b.writableAreas()[:1+writableBefore(b.in.Spec.Mounts, i)] {
				if src := area.real(m.Source); under(src, area.host) {
					op.Source, op.Beneath = src, area.host
					break
				}
			}
			if _, err := b.in.Host.Lstat(op.Source); err != nil {
				return fmt.Errorf("--%s %s: %w", m.Kind, m.Source, err)
			}
			b.add(op)
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
// workdir or a read-write --bind shows it inside, and pins its parent
// directories there so none can be renamed away and replaced.
func (b *builder) protectSelf() {
	if b.in.Self == "" {
		return
	}
	for _, area := range b.writableAreas() {
		if inside, ok := area.inside(b.in.Self); ok {
			b.pinAncestors(area.host, area.target, b.in.Self)
			b.guard(Op{Kind: OpBind, Source: b.in.Self, Target: inside, ReadOnly: true, Optional: true, Beneath: area.host})
		}
	}
}

// hideState hides the run state (upper layers, --keep) where the workdir or
// a read-write --bind would show it: the command must not reach under its
// own overlays, nor move the directories that lead to them.
func (b *builder) hideState() {
	for _, a := range b.in.Avoid {
		for _, area := range b.writableAreas() {
			if inside, ok := area.inside(a); ok {
				b.pinAncestors(area.host, area.target, area.real(a))
				b.guard(Op{Kind: OpHide, Source: b.in.State.Empty(), Target: inside, Optional: true})
			}
		}
	}
}

// sortTail sorts the last n ops by target.
func sortTail(ops []Op, n int) {
	tail := ops[len(ops)-n:]
	sort.Slice(tail, func(i, j int) bool { return tail[i].Target < tail[j].Target })
}
