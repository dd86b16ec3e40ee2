package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/sbx-sandbox/sbx/run"
	"github.com/sbx-sandbox/sbx/spec"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "dev"

type cli struct {
	Run     runCmd     `cmd:"" help:"Run a command in a sandbox."`
	Doctor  doctorCmd  `cmd:"" help:"Check what this host allows sbx to do, and how to fix what it does not."`
	Version versionCmd `cmd:"" help:"Print sbx's version."`
}

type runCmd struct {
	Hostname          string        `default:"sbx" placeholder:"NAME" help:"Hostname inside. Default: ${default}."`
	Workdir           string        `placeholder:"DIR" help:"Directory bound read-write at the same path, and where the command starts (default: the current directory). Its git hooks and code-running git config are protected (--git-protect)."`
	Bind              []string      `sep:"none" placeholder:"SRC[:DST]" help:"Bind a host path read-write (repeatable; binds, tmpfs and hides apply in the order given)."`
	RoBind            []string      `name:"ro-bind" sep:"none" placeholder:"SRC[:DST]" help:"Bind a host path read-only."`
	Tmpfs             []string      `sep:"none" placeholder:"DST" help:"Mount an empty tmpfs at DST."`
	Hide              []string      `sep:"none" placeholder:"PATH" help:"Hide PATH: an empty read-only directory or file in its place."`
	Rootfs            string        `enum:"cow,ro" default:"cow" placeholder:"cow|ro" help:"Host view: copy-on-write (every write succeeds inside, at any depth, and is discarded; host root's files are root's inside) or read-only. Default: ${default}."`
	Home              string        `enum:"cow,empty" default:"cow" placeholder:"cow|empty" help:"Your home directories ($HOME and the one in /etc/passwd). cow: copy-on-write like the rest of the host, with keys, tokens and histories hidden. empty: an empty directory instead; only the workdir and binds under them show (the workdir must not be a home or hold one). Default: ${default}."`
	Keep              string        `placeholder:"DIR" help:"Keep the files the run changed (its upper layers) in DIR, a new or empty directory, not a symbolic link."`
	Diff              bool          `help:"Print what the run changed outside its binds (added, modified, deleted) on stderr."`
	GitProtect        string        `name:"git-protect" enum:"on,off" default:"on" placeholder:"on|off" help:"on: the workdir's git hooks stay read-only and git config keys that run programs (core.fsmonitor, core.hooksPath, filter.*, alias.*, ...) never reach the host; other git changes persist. off: the command may plant hooks and config that your git runs later on the host. Default: ${default}."`
	Env               []string      `sep:"none" placeholder:"K=V|K" help:"Set K=V, or pass the caller's K (even one that looks secret)."`
	EnvAll            bool          `name:"env-all" help:"Pass every variable of the caller's environment except secret-looking names (*TOKEN*, *SECRET*, *PASSWORD*, *_KEY, AWS_*, ...), not only the allowlist."`
	UID               int           `name:"uid" placeholder:"N" help:"User id inside. Default: 0."`
	GID               int           `name:"gid" placeholder:"N" help:"Group id inside. Default: 0."`
	MapUsers          string        `name:"map-users" enum:"auto,none" default:"auto" placeholder:"auto|none" help:"auto: ids 1..65535 inside map to your /etc/subuid range through newuidmap when available (chown and package managers work); none: only your own id. Default: ${default}."`
	Timeout           time.Duration `placeholder:"DUR" help:"Kill the run after DUR (e.g. 90s, 10m): SIGTERM to every process, SIGKILL after --grace; exit 124. Default: no limit."`
	Grace             time.Duration `default:"10s" placeholder:"DUR" help:"Time between SIGTERM and SIGKILL on timeout. Default: ${default}."`
	Report            string        `placeholder:"FILE" help:"Write a JSON record of the run to FILE (created before the command starts; not a symbolic link)."`
	Net               string        `default:"" placeholder:"none|slirp|host" help:"none (the default, unless a flag below asks for slirp): loopback only. slirp (also a bare --net): a network of the sandbox's own, served inside sbx: the command reaches the internet through the host's sockets, but not the host's loopback, its own addresses, link-local, cloud metadata (169.254.169.254) or private ranges, unless --allow-net or --allow-host-loopback says so; DNS at 10.0.2.3. host: SHARES THE HOST'S NETWORK, including services on its 127.0.0.1 and its abstract unix sockets; no isolation."`
	AllowNet          []string      `name:"allow-net" sep:"none" placeholder:"RULE" help:"Allow only what the rules name (repeatable; implies --net slirp): host[:port], IP[:port], CIDR[:port] ([IPv6]:port) or *.domain[:port]. A name rule allows the addresses the built-in DNS answered for it in this run; DNS questions for names no rule names are refused and never leave the sandbox. A private, loopback or metadata address opens only to a rule that names it by address or range, never through a name."`
	AllowHostLoopback bool          `name:"allow-host-loopback" help:"Let the sandbox reach the host's 127.0.0.1 through the gateway 10.0.2.2 (implies --net slirp)."`
	Publish           []string      `short:"p" sep:"none" placeholder:"[IP:]HOSTPORT:PORT[/tcp|udp]" help:"Listen on the host (127.0.0.1 unless IP is given) and carry connections to PORT inside (repeatable; implies --net slirp)."`
	DNSUpstream       string        `name:"dns-upstream" placeholder:"ADDR" help:"The resolver the built-in DNS forwards to: IP or IP:PORT (default: the host's, from /etc/resolv.conf; implies --net slirp)."`
	NetLog            string        `name:"net-log" placeholder:"FILE" help:"Write one JSON line per connection and per DNS question, allowed or denied, with the rule that decided and the bytes each way (implies --net slirp; not a symbolic link)."`
	Memory            string        `placeholder:"SIZE" help:"Memory limit (memory.max), e.g. 512m, 2g (powers of 1024); swap is off unless --memory-swap. Over it the kernel kills the largest process: exit 137, cause oom. Needs a delegated cgroup v2 subtree (sbx doctor)."`
	MemorySwap        string        `name:"memory-swap" placeholder:"SIZE" help:"Memory and swap together, as docker and podman count it (so swap is SIZE minus --memory); -1: swap unlimited. Needs --memory."`
	CPUs              string        `name:"cpus" placeholder:"N" help:"CPU time limit in CPUs (cpu.max), e.g. 0.5 or 2: the command is throttled to N CPUs' worth of time per 100 ms."`
	Cpuset            string        `name:"cpuset" placeholder:"LIST" help:"CPUs the command may run on (cpuset.cpus), e.g. 0-3,6."`
	Pids              string        `name:"pids" placeholder:"N" help:"Most processes and threads alive at once (pids.max): a fork bomb stops there."`
	IOReadBps         []string      `name:"io-read-bps" sep:"none" placeholder:"DEV:RATE" help:"Read rate limit on a block device (io.max), DEV a path (/dev/sda) or MAJ:MIN, RATE bytes per second (10m); repeatable."`
	IOWriteBps        []string      `name:"io-write-bps" sep:"none" placeholder:"DEV:RATE" help:"Write rate limit on a block device (io.max), as --io-read-bps; repeatable."`
	Limits            string        `name:"limits" enum:"strict,best-effort" default:"strict" placeholder:"strict|best-effort" help:"strict: a limit that cannot be enforced here (no delegated cgroup v2 controller for it) stops the run, exit 125, with the fix. best-effort: run with what the host allows (--pids falls back to RLIMIT_NPROC); the report's limits say which were enforced. Default: ${default}."`
	Seccomp           string        `default:"default" placeholder:"default|unconfined|FILE" help:"System call filter. default: Docker's default profile, plus denials of keyrings, bpf, perf_event_open, userfaultfd, io_uring, kexec, module loading, open_by_handle_at, the new mount API, the 32-bit and x32 tables, TIOCSTI and TIOCLINUX, and new namespaces (see --allow-nested-userns); a denied call fails with EPERM. FILE: an OCI or Docker seccomp profile (JSON). unconfined: no filter. Default: ${default}."`
	CapAdd            []string      `name:"cap-add" sep:"none" placeholder:"CAP" help:"Add a capability to the default set (Docker's: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP SETFCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE). Names as in capabilities(7), with or without CAP_; ALL for every one. Repeatable."`
	CapDrop           []string      `name:"cap-drop" sep:"none" placeholder:"CAP" help:"Drop a capability from the set; ALL drops every one (then --cap-add adds back). Repeatable."`
	NestedNS          bool          `name:"allow-nested-userns" help:"Let the command create and join namespaces of its own (clone, unshare, setns with namespace flags) and mount in them (mount, umount2, pivot_root; never over the sandbox's own mounts), as rootless container tools, bwrap and browsers' sandboxes need. Off by default: nested namespaces are the kernel surface behind most container escapes."`
	Command           []string      `arg:"" passthrough:"partial" name:"command" help:"The command and its arguments, after --."`
}

func (r *runCmd) Help() string {
	return `Run COMMAND as root in its own user namespace (mapped back to you), with its
own hostname, SysV IPC, process tree, mounts and (empty) network. The host's
directories are visible copy-on-write: the command can write anywhere, and
nothing reaches the host except in the working directory and --bind paths.
Secrets under your home (~/.ssh, ~/.aws, ~/.docker, histories, ...) are
hidden, the workdir's git hooks and code-running git config never reach the
host, and only a short list of environment variables passes. Root inside holds
Docker's default capabilities (no CAP_SYS_ADMIN: no mount or umount) under
no_new_privs and a seccomp filter, so what hides and protects cannot be
undone; --cap-add, --seccomp and --allow-nested-userns loosen that.
With --net (or --allow-net, --publish), the command gets a network of its
own, served inside sbx: it reaches the internet but not your host's
services, its private networks or cloud metadata, and with --allow-net only
what the rules name.
With --memory, --cpus, --pids or --io-*-bps, the command runs in a cgroup of
its own that holds those limits, inside the cgroup v2 subtree your system
delegated to you (or a scope sbx asks systemd for); where none can hold a
limit, sbx refuses to run unless --limits best-effort. An out-of-memory kill
is exit 137 with cause "oom" in the report.

Examples:
  sbx run -- make test                 # build and test, the host untouched
  sbx run --diff -- ./configure        # show what it changed outside the project
  sbx run --timeout 10m --report run.json -- npm ci
  sbx run --ro-bind ~/data:/data --env API_URL -- ./job.sh
  sbx run --allow-net proxy.golang.org:443 -- go mod download
  sbx run --net --allow-host-loopback -- curl -sI http://10.0.2.2:8080/
  sbx run --memory 2g --cpus 2 --pids 512 -- make -j8   # needs a delegated cgroup v2 subtree (sbx doctor)
  sbx run -p 8080:3000 -- npm run dev   # the host's 127.0.0.1:8080 → port 3000 inside

Exit status: the command's own; 128+N if signal N killed it; 124 on timeout;
125 if sbx failed (the message says why and how to fix it); 126 if the
command cannot be executed; 127 if it is not found.`
}

type doctorCmd struct {
	JSON bool `name:"json" help:"Print the checks as JSON."`
}

type versionCmd struct{}

// runCLI parses the command line and runs the chosen command; every
// failure of sbx itself is status 125.
// noCommand says what `sbx run` lacks without a command, and what to type.
const noCommand = "sbx run: no command to run; give it after --, as in: sbx run -- make test (sbx run --help for the flags)"

func runCLI(args []string) int {
	var c cli
	exit := -1
	parser, err := kong.New(&c,
		kong.Name("sbx"),
		kong.Description("Run a command in a rootless sandbox: no root, no daemon, no image.\n\nQuick start:\n  sbx run -- make test\n  sbx doctor"),
		kong.UsageOnError(),
		kong.Exit(func(code int) { exit = code }),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", err)
		return 125
	}
	ctx, err := parser.Parse(bareNetMeansSlirp(args))
	if exit >= 0 {
		return exit // --help
	}
	if err != nil && strings.Contains(err.Error(), `expected "<command> ..."`) {
		fmt.Fprintln(os.Stderr, noCommand)
		return 125
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbx:", err)
		return 125
	}
	switch ctx.Command() {
	case "run <command>":
		mounts, err := orderedMounts(ctx, &c.Run)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sbx:", err)
			return 125
		}
		// kong keeps the "--" that ends the flags.
		if len(c.Run.Command) > 0 && c.Run.Command[0] == "--" {
			c.Run.Command = c.Run.Command[1:]
		}
		if len(c.Run.Command) == 0 {
			fmt.Fprintln(os.Stderr, noCommand)
			return 125
		}
		return run.Main(c.Run.options(mounts))
	case "doctor":
		return c.Doctor.run()
	case "version":
		fmt.Printf("sbx %s\n", versionString())
		return 0
	}
	fmt.Fprintln(os.Stderr, "sbx: unknown command", ctx.Command())
	return 125
}

// options are the flags of `sbx run` as the run takes them; what sbx
// learns of its host and caller, the run finds out itself.
func (r *runCmd) options(mounts []spec.Mount) spec.Options {
	return spec.Options{
		Command: r.Command, Hostname: r.Hostname, Workdir: r.Workdir, Mounts: mounts,
		Rootfs: r.Rootfs, Home: r.Home, Keep: r.Keep, Diff: r.Diff, GitProtect: r.GitProtect,
		Env: r.Env, EnvAll: r.EnvAll, UID: r.UID, GID: r.GID, MapUsers: r.MapUsers,
		Net: r.Net, Timeout: r.Timeout, Grace: r.Grace, Report: r.Report,
		CapAdd: r.CapAdd, CapDrop: r.CapDrop, Seccomp: r.Seccomp, AllowNestedUserns: r.NestedNS,
		AllowNet: r.AllowNet, AllowHostLoopback: r.AllowHostLoopback, Publish: r.Publish,
		DNSUpstream: r.DNSUpstream, NetLog: r.NetLog,
		Limits: spec.Limits{
			Memory: r.Memory, MemorySwap: r.MemorySwap, CPUs: r.CPUs, Cpuset: r.Cpuset, Pids: r.Pids,
			IORead: r.IOReadBps, IOWrite: r.IOWriteBps, Mode: spec.LimitsMode(r.Limits),
		},
	}
}

// bareNetMeansSlirp rewrites a bare --net (one not followed by a value) to
// --net=slirp, which kong cannot express. Only sbx's own flags count: the
// scan stops at "--" and at the command (the first positional argument).
func bareNetMeansSlirp(args []string) []string {
	out := append([]string(nil), args...)
	valueless := map[string]bool{"--diff": true, "--help": true, "-h": true, "--env-all": true, "--allow-nested-userns": true, "--allow-host-loopback": true}
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			return out
		case i == 0 && a == "run":
		case a == "--net" && (i+1 == len(out) || strings.HasPrefix(out[i+1], "-")):
			out[i] = "--net=slirp"
		case !strings.HasPrefix(a, "-"):
			return out // the command starts here
		case !valueless[a] && !strings.Contains(a, "="):
			i++ // skip the flag's value
		}
	}
	return out
}

// orderedMounts rebuilds the order in which --bind, --ro-bind, --tmpfs and
// --hide were given (kong keeps one list per flag; its parse path keeps the
// order of the occurrences).
func orderedMounts(ctx *kong.Context, r *runCmd) ([]spec.Mount, error) {
	lists := map[string][]string{"bind": r.Bind, "ro-bind": r.RoBind, "tmpfs": r.Tmpfs, "hide": r.Hide}
	next := map[string]int{}
	var out []spec.Mount
	for _, p := range ctx.Path {
		if p.Flag == nil {
			continue
		}
		values, ok := lists[p.Flag.Name]
		if !ok {
			continue
		}
		i := next[p.Flag.Name]
		if i >= len(values) {
			return nil, errors.New("internal: mount flags out of step with their values")
		}
		next[p.Flag.Name] = i + 1
		m, err := spec.ParseMountFlag(spec.MountKind(p.Flag.Name), values[i])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	total := len(r.Bind) + len(r.RoBind) + len(r.Tmpfs) + len(r.Hide)
	if len(out) != total {
		return nil, errors.New("internal: mount flags out of step with their values")
	}
	return out, nil
}
