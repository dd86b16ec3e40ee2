package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ProbeArg is argv[1] of the probe process: main dispatches it to ProbeMain
// before parsing any flags, as it does "__init".
const ProbeArg = "__probe"

// probeTimeout bounds one probe; a probe that hangs must not hang doctor.
const probeTimeout = 10 * time.Second

// ProbeMain is the body of `sbx __probe KIND`, which RunProbe starts inside
// new user and mount namespaces. It returns the exit status: 0 when the
// probe succeeded, else 1 after printing the error on stderr.
func ProbeMain(kind string) int {
	if err := runProbeKind(kind); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func runProbeKind(kind string) error {
	switch kind {
	case "userns":
		// Being started at all proves the clone; uid 0 proves the map.
		if uid := os.Getuid(); uid != 0 {
			return fmt.Errorf("uid inside the user namespace is %d, not 0", uid)
		}
		return nil
	case "overlay":
		return probeOverlay()
	case "fuse":
		return probeFUSE()
	case "seccomp":
		return probeSeccomp()
	}
	return fmt.Errorf("unknown probe %q", kind)
}

// probeOverlay mounts overlayfs the way sbx does, on a private tmpfs, so
// that nothing it mounts can show up on the host.
func probeOverlay() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	// Mount over the temp directory itself rather than create one in it:
	// that needs no write permission on the host (uid 0 here may be nobody
	// there) and leaves nothing behind, since the mount dies with this
	// process's namespace.
	dir := os.TempDir()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = "/tmp"
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0700"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	d := func(name string) string { return filepath.Join(dir, name) }
	for _, name := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(d(name), 0o755); err != nil {
			return err
		}
	}
	// userxattr: in a user namespace overlayfs may not use trusted.* xattrs.
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", d("lower"), d("upper"), d("work"))
	if err := unix.Mount("overlay", d("merged"), "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay (%s): %w", opts, err)
	}
	return nil
}

// probeFUSE mounts FUSE the way sbx mounts its view of the host, on a
// private tmpfs. No server answers: the mount alone proves the kernel
// allows it, and it dies with this process's namespace.
func probeFUSE() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	dev, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/fuse: %w", err)
	}
	defer unix.Close(dev)
	dir := os.TempDir()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = "/tmp"
	}
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0", dev)
	if err := unix.Mount("sbx-probe", dir, "fuse.sbx-probe", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount fuse (%s): %w", opts, err)
	}
	return nil
}

// probeCommand builds the probe process: /proc/self/exe in new user and
// mount namespaces, with id 0 inside mapped to the caller. A Go program
// cannot unshare a user namespace once it has threads, so the namespaces
// are made at clone time. setgroups must be denied before an unprivileged
// process may write gid_map.
func probeCommand(ctx context.Context, kind string, uid, gid int) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/proc/self/exe", ProbeArg, kind)
	// Keep our argv[0]: a multi-call binary (and the test binary) picks
	// its entry by it.
	cmd.Args[0] = os.Args[0]
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}},
		GidMappingsEnableSetgroups: false,
		// No Pdeathsig: it fires when the forking thread exits, not the
		// process (golang/go#27505); the context's kill covers a hang.
	}
	return cmd
}

// RunProbe runs `sbx __probe KIND` in new user and mount namespaces and
// returns nil, the clone's error (errors.Is works on its errno), or the
// probe's own error message.
func RunProbe(kind string) error {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := probeCommand(ctx, kind, os.Getuid(), os.Getgid())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return fmt.Errorf("clone(CLONE_NEWUSER|CLONE_NEWNS): %w", errno)
		}
		return err
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("probe %s: no answer after %v", kind, probeTimeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return errors.New(msg)
		}
		return fmt.Errorf("probe %s: %w", kind, err)
	}
	return nil
}
