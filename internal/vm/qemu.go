package vm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Qemu is the emulator Boot runs, looked up in PATH.
const Qemu = "qemu-system-x86_64"

// cmdline is the kernel's command line. console=ttyS0: the console is the
// serial port, which qemu connects to its stdout. panic=-1 with qemu's
// -no-reboot: a panic (PID 1 exiting, say) ends qemu at once instead of
// hanging. cgroup_no_v1=all: no v1 hierarchy can be mounted, the VM is
// pure cgroup v2. sbx.*: read by /init.
func (o Options) cmdline() string {
	args := []string{"console=ttyS0", "panic=-1", "quiet", "cgroup_no_v1=all"}
	if o.Suite != "" {
		args = append(args, "sbx.suite="+o.Suite)
	}
	if o.Run != "" {
		args = append(args, "sbx.run="+o.Run)
	}
	return strings.Join(args, " ")
}

// qboot is qemu's minimal firmware (package qemu-system-data, which
// qemu-system-x86 depends on): it starts the kernel sooner than SeaBIOS.
const qboot = "/usr/share/qemu/qboot.rom"

// qemuArgs: software emulation (TCG; KVM is not available here), no
// network device at all (the VM must never reach anything), the console
// on stdio, the disk on virtio.
func (o Options) qemuArgs(initrd, disk string) []string {
	var args []string
	if _, err := os.Stat(qboot); err == nil {
		args = append(args, "-bios", qboot)
	}
	return append(args,
		"-accel", "tcg",
		"-cpu", "max", // what TCG can emulate, as a real CPU would have it
		"-smp", strconv.Itoa(o.CPUs),
		"-m", strconv.Itoa(o.MemoryMiB),
		"-nographic", "-no-reboot",
		"-nic", "none",
		"-kernel", o.Kernel.Image,
		"-initrd", initrd,
		"-append", o.cmdline(),
		"-drive", "file="+disk+",if=virtio,format=raw",
	)
}

// run boots qemu and reads its console until it exits.
func run(ctx context.Context, o Options, initrd, disk string) (*Result, error) {
	cmd := exec.CommandContext(ctx, Qemu, o.qemuArgs(initrd, disk)...)
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(&stderr, prefixed{o.Console, "qemu: "})
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// Killed at the timeout, qemu may leave nothing to read: do not wait
	// on the pipe for long after.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", Qemu, err)
	}
	p := newParser(start)
	r := bufio.NewReader(out)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			io.WriteString(o.Console, strings.TrimRight(line, "\r\n")+"\n")
			p.line(line, time.Now())
		}
		if err != nil {
			break
		}
	}
	werr := cmd.Wait()
	res := &p.res
	res.Wall = time.Since(start)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return res, fmt.Errorf("the VM ran past its %v timeout and was killed", o.Timeout)
	case ctx.Err() != nil:
		return res, ctx.Err()
	case werr != nil:
		return res, fmt.Errorf("%s: %v\n%s", Qemu, werr, stderr.String())
	}
	return res, nil
}

// prefixed writes each write to w with a prefix: qemu's stderr comes a
// line at a time.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	io.WriteString(p.w, p.prefix+string(b))
	return len(b), nil
}

// syncWriter serializes writes: the console and qemu's stderr arrive on
// two goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
