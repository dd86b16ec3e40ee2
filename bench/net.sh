#!/usr/bin/env bash
# Usage: bench/net.sh [--runs N] [--out DIR]
#
# sbx's user-space network (`sbx run --net slirp`) against its peers, as an
# unprivileged user, all in one run. Four ways for a process to reach a
# server on the host's 127.0.0.1:
#
#   host         the host's loopback itself, no namespace (the limit)
#   slirp4netns  unshare --user --map-root-user --net --fork, then
#                slirp4netns --configure --mtu=65520 PID tap0; the host's
#                loopback is 10.0.2.2 inside
#   pasta        pasta -f --config-net -4 -a 10.0.2.100 -n 24 -g 10.0.2.2
#                --mtu 65520 -t none -u none -T none -U none -- CMD; pasta
#                maps its gateway (10.0.2.2 here) to the host's loopback
#                unless --no-map-gw. No port is forwarded (-t/-u/-T/-U
#                none), so the traffic takes the TAP, as in the others, and
#                not pasta's splice bypass for loopback ports
#   sbx          sbx run --net slirp --allow-host-loopback -- CMD, 10.0.2.2
#                inside (the flags: $SBX_NET_FLAGS)
#
# Measured, in interleaved rounds: every round runs every (way, test) pair
# once, in a new random order, so the machine's drift hits all alike:
#
#   up, down     iperf3 -c ADDR -t $IPERF_TIME (sandbox → host) and with -R
#                (host → sandbox), to `iperf3 -s -B 127.0.0.1` on the host:
#                the receiver's Gbit/s
#   http1/16     ab -n $HTTP_REQUESTS -c 1 and -c $HTTP_PARALLEL against
#                bench/netserver on 127.0.0.1 (a 100-byte body): requests
#                per second. No -k: ab speaks HTTP/1.0 without keep-alive,
#                so every request opens a new connection and its set-up is
#                measured. A run with a failed request counts as failed
#                (ab -s 10: a reply more than 10 s late fails the run).
#
# Then, once per way (random order), `netserver hold` inside opens
# $IDLE_CONNS TCP connections to an echo server on the host's loopback,
# checks each with one echoed byte and holds them idle for $IDLE_HOLD s.
# Peak RSS (VmHWM in /proc/PID/status, sampled every 0.1 s while the run
# lasts) of the process that carries the traffic: sbx's parent (any other
# process named sbx in its tree is reported too), slirp4netns, pasta; over
# the bulk runs and the HTTP runs (the largest of each) and during the idle
# connections.
#
# Start-up: `sbx run --net -- true` against `sbx run -- true`, one hyperfine
# invocation ($STARTUP_RUNS runs each; target: ratio of medians ≤ 1.3),
# then the same pair alternated in $STARTUP_RUNS rounds.
#
# A way that is missing or fails its probe (one echoed connection and a 1 s
# iperf3, which also warm it up) is reported as n/a with the reason, and the
# others go on.
#
# Prints a markdown section on stdout: a table of medians with ratios
# against the host's loopback and against slirp4netns, the start-up
# figures, and every round's raw numbers. Progress goes to stderr.
#
#   --runs N    rounds (default 5)
#   --out DIR   also copy the JSON results and hyperfine's exports to DIR
#
# Environment: IPERF_TIME (seconds per iperf3 run, default 5), HTTP_REQUESTS
# (2000), HTTP_PARALLEL (16), IDLE_CONNS (200), IDLE_HOLD (3), STARTUP_RUNS
# (40), NET_MTU (65520, for slirp4netns and pasta), NET_WAYS (a subset of
# "host slirp4netns pasta sbx"), SBX_NET_FLAGS ("--net slirp
# --allow-host-loopback"), SLIRP4NETNS and PASTA (other binaries), SBX (a
# prebuilt sbx to measure instead of the one built here), NET_SETTLE (at
# most so many seconds, default 30, waiting for the load average to fall
# below 1 first). Without SBX it builds sbx from this checkout, as the
# other benchmarks do. With the defaults a full run takes about 5 minutes.
#
# Every server listens on 127.0.0.1 only; nothing leaves the machine.
# The TAP-based ways need /dev/net/tun readable and writable by the user
# (stock distributions ship it 0666; where it is not, as root:
# chmod 0666 /dev/net/tun). The soft limit on open files is raised to the
# hard one for every way: slirp4netns keeps a host socket per closed
# connection for a while and, at the usual 1024, fails ab's 2,000
# connections after about 1,000 with "Network is unreachable".
#
# Run as root, it builds sbx from this checkout and runs everything as
# ${SBX_BENCH_USER:-sbxtest} (runuser); run as a normal user, as that user.
# Needs hyperfine, python3, Go at /usr/local/go (or GO=...), iperf3 and ab
# (apt-get install -y iperf3 apache2-utils), and for the peers slirp4netns,
# unshare (util-linux) and pasta (passt).
set -euo pipefail

# SBX=path measures a prebuilt binary (bench_setup copies it).
SBX_GIVEN=${SBX:-}
. "$(dirname "$0")/lib.sh"
bench_args 5 "$@"
need iperf3 ab
bench_setup
W=$BENCH_TMP/work
# The helper lives in the work directory: the commands inside every way,
# sbx's included, see it there.
(cd "$BENCH_REPO" && CGO_ENABLED=0 GOTOOLCHAIN=local "$GO" build -o "$W/netserver" ./bench/netserver) ||
	die "cannot build bench/netserver"
chmod 0755 "$W/netserver"

startup_target=1.3
startup_runs=${STARTUP_RUNS:-40}
ways=${NET_WAYS:-host slirp4netns pasta sbx}
sbx_net_flags=${SBX_NET_FLAGS:---net slirp --allow-host-loopback}
slirp_bin=${SLIRP4NETNS:-$(command -v slirp4netns || true)}
pasta_bin=${PASTA:-$(command -v pasta || true)}
for v in IPERF_TIME HTTP_REQUESTS HTTP_PARALLEL IDLE_CONNS IDLE_HOLD STARTUP_RUNS NET_MTU NET_SETTLE; do
	[[ -z ${!v:-} || ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
for w in $ways; do
	[[ " host slirp4netns pasta sbx " == *" $w "* ]] || die "NET_WAYS: unknown way $w (host, slirp4netns, pasta, sbx)"
done

settle() {
	local i
	for ((i = 0; i < ${NET_SETTLE:-30}; i += 5)); do
		awk '{ exit !($1 < 1.0) }' /proc/loadavg && break
		sleep 5
	done
	cut -d' ' -f1-3 /proc/loadavg
}

tun_note=
if ! as_user python3 -c 'import os; os.close(os.open("/dev/net/tun", os.O_RDWR))' 2>/dev/null; then
	tun_note="/dev/net/tun cannot be opened by $BENCH_USER ($(stat -c '%a %U:%G' /dev/net/tun 2>/dev/null || echo missing)): slirp4netns, pasta and sbx --net need it; as root: chmod 0666 /dev/net/tun (stock distributions ship 0666)"
	echo "bench: $tun_note" >&2
fi

# The driver: runs every way and test as the bench user, writes net.json.
cat >"$BENCH_TMP/bin/netbench.py" <<'PY'
import json, os, random, re, resource, select, shlex, shutil, signal, socket, subprocess, sys, threading, time

cfg = json.load(open(sys.argv[1]))
out_path = sys.argv[2]
GW = "10.0.2.2"
MTU = str(cfg["mtu"])
W = cfg["work"]
NS = os.path.join(W, "netserver")

# slirp4netns keeps a host socket per closed connection for a while: the
# usual soft limit of 1024 fails ab's runs halfway. The same for all ways.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


class Sampler(threading.Thread):
    """Peak VmHWM of a process (and, for sbx, of other sbx processes below
    it), read every 0.1 s until stopped."""

    def __init__(self, pid, tree_name=None):
        super().__init__(daemon=True)
        self.pid, self.tree_name = pid, tree_name
        self.hwm, self.others = None, {}
        self.done = threading.Event()

    def run(self):
        n = 0
        while not self.done.is_set():
            v = status_kb(self.pid, "VmHWM")
            if v is not None:
                self.hwm = max(self.hwm or 0, v)
            if self.tree_name and n % 10 == 0:
                stack = children(self.pid)
                while stack:
                    p = stack.pop()
                    stack += children(p)
                    if comm(p) == self.tree_name:
                        v = status_kb(p, "VmHWM")
                        if v is not None:
                            self.others[p] = max(self.others.get(p, 0), v)
            n += 1
            self.done.wait(0.1)

    def stop(self):
        self.done.set()
        self.join()


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass


def run_in(way, inner, timeout):
    """Runs the shell command inner ({ip} replaced) inside way; returns
    (rc, stdout, stderr, rss) with rss the peak VmHWM in KiB of the
    process that carries the traffic (None for host), and others (sbx)."""
    ip = "127.0.0.1" if way == "host" else GW
    cmd = inner.format(ip=ip)
    slirp = None
    if way == "host":
        argv = ["sh", "-c", cmd]
    elif way == "pasta":
        argv = [cfg["pasta"], "-q", "-f", "--config-net", "-4", "-a", "10.0.2.100", "-n", "24",
                "-g", GW, "--mtu", MTU, "-t", "none", "-u", "none", "-T", "none", "-U", "none",
                "--", "sh", "-c", cmd]
    elif way == "sbx":
        argv = [cfg["sbx"], "run", *shlex.split(cfg["sbx_net_flags"]), "--", "sh", "-c", cmd]
    elif way == "slirp4netns":
        up_r, up_w = os.pipe()
        go_r, go_w = os.pipe()
        # The child says it is up (unshare has mapped the ids and forked),
        # then waits for slirp4netns to have configured tap0.
        script = f'echo up >&{up_w}; exec {up_w}>&-; read -r _ <&{go_r}; exec {go_r}<&-; exec sh -c "$1"'
        argv = ["unshare", "--user", "--map-root-user", "--net", "--fork", "bash", "-c", script, "sh", cmd]
    start = time.monotonic()
    if way == "slirp4netns":
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             pass_fds=(up_w, go_r), start_new_session=True, text=True)
        os.close(up_w)
        os.close(go_r)
        ready = select.select([up_r], [], [], 10)[0] and os.read(up_r, 16)
        os.close(up_r)
        if not ready:
            kill_group(p)
            o, e = p.communicate()
            os.close(go_w)
            return 1, o, e + "\nthe namespace did not come up", None, {}
        rd_r, rd_w = os.pipe()
        slirp = subprocess.Popen([cfg["slirp4netns"], "--configure", f"--mtu={MTU}", f"--ready-fd={rd_w}",
                                  str(p.pid), "tap0"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, pass_fds=(rd_w,), start_new_session=True, text=True)
        os.close(rd_w)
        ok = select.select([rd_r], [], [], 10)[0] and os.read(rd_r, 16)
        os.close(rd_r)
        if not ok:
            kill_group(p)
            kill_group(slirp)
            os.close(go_w)
            o, e = p.communicate()
            e += slirp.communicate()[1] + "\nslirp4netns did not become ready"
            return 1, o, e, None, {}
        os.write(go_w, b"go\n")
        os.close(go_w)
        sampler = Sampler(slirp.pid)
    else:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             start_new_session=True, text=True)
        sampler = Sampler(p.pid, "sbx" if way == "sbx" else None) if way != "host" else None
    if sampler:
        sampler.start()
    try:
        o, e = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        kill_group(p)
        o, e = p.communicate()
        rc, e = 124, e + f"\ntimed out after {timeout} s"
    rss, others = None, {}
    if sampler:
        sampler.stop()
        rss, others = sampler.hwm, sampler.others
    if slirp:
        slirp.terminate()
        try:
            slirp.wait(5)
        except subprocess.TimeoutExpired:
            kill_group(slirp)
            slirp.wait()
    return rc, o, e, rss, {"wall": time.monotonic() - start, "others": others}


# The servers, on the host's loopback only.
iperf_port = free_port()
addrs_file = os.path.join(W, "netserver.addrs")
servers = []


def start_iperf():
    p = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(iperf_port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", iperf_port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return p


ns = subprocess.Popen([NS, "serve", "-http", "127.0.0.1:0", "-echo", "127.0.0.1:0", "-addrs", addrs_file],
                      stdout=subprocess.DEVNULL, start_new_session=True)
servers.append(ns)
for _ in range(200):
    if os.path.exists(addrs_file):
        break
    time.sleep(0.05)
addrs = dict(l.split() for l in open(addrs_file))
http_port = addrs["http"].rsplit(":", 1)[1]
echo_port = addrs["echo"].rsplit(":", 1)[1]
iperf = start_iperf()

T = cfg["iperf_time"]
tests = {
    "up": f"iperf3 -c {{ip}} -p {iperf_port} -t {T} -J",
    "down": f"iperf3 -c {{ip}} -p {iperf_port} -t {T} -J -R",
    "http1": f"ab -q -s 10 -n {cfg['http_requests']} -c 1 http://{{ip}}:{http_port}/",
    "httpN": f"ab -q -s 10 -n {cfg['http_requests']} -c {cfg['http_parallel']} http://{{ip}}:{http_port}/",
}
timeouts = {"up": T + 30, "down": T + 30, "http1": 120, "httpN": 120}


def parse(test, rc, o, e):
    """(value, note): Gbit/s or requests/s, or None and why not."""
    if test in ("up", "down"):
        try:
            j = json.loads(o)
        except ValueError:
            return None, (e or o).strip()[-300:] or f"exit {rc}"
        if rc != 0 or "error" in j:
            return None, j.get("error", f"exit {rc}: {e.strip()[-300:]}")
        r = j["end"]["sum_received"]["bits_per_second"] / 1e9
        return r, f"retransmits {j['end'].get('sum_sent', {}).get('retransmits', '?')}"
    m = re.search(r"Requests per second:\s+([\d.]+)", o)
    failed = re.search(r"Failed requests:\s+(\d+)", o)
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", o)
    if rc != 0 or not m:
        return None, f"exit {rc}: {(e or o).strip()[-300:]}"
    if failed and int(failed.group(1)) or non2xx:
        return None, f"failed requests: {failed.group(1) if failed else 0}, non-2xx: {non2xx.group(1) if non2xx else 0}"
    return float(m.group(1)), ""


def missing(way):
    """Why way cannot run here, or None."""
    if way == "slirp4netns" and not (cfg["slirp4netns"] and os.access(cfg["slirp4netns"], os.X_OK)):
        return "slirp4netns not found (apt-get install -y slirp4netns, or SLIRP4NETNS=...)"
    if way == "slirp4netns" and not shutil.which("unshare"):
        return "unshare (util-linux) not found"
    if way == "pasta" and not (cfg["pasta"] and os.access(cfg["pasta"], os.X_OK)):
        return "pasta not found (apt-get install -y passt, or PASTA=...)"
    return None


res = {"config": cfg, "ports": {"iperf3": iperf_port, "http": http_port, "echo": echo_port},
       "ways": {}, "bulk_rss": {}, "idle": {}, "runs": []}
ways = []
try:
    # Probe (and warm up) each way: one echoed connection, a 1 s iperf3.
    for way in cfg["ways"]:
        why = missing(way)
        if why:
            res["ways"][way] = {"ok": False, "why": why}
            log(f"{way}: n/a: {why}")
            continue
        rc, o, e, _, _ = run_in(way, f"{NS} hold -addr {{ip}}:{echo_port} -n 1 -for 0s", 60)
        why = None
        if rc != 0 or "held 1" not in o:
            why = f"probe (one connection to the host's loopback) failed, exit {rc}: {(e or o).strip()[-500:]}"
        else:
            rc, o, e, _, _ = run_in(way, f"iperf3 -c {{ip}} -p {iperf_port} -t 1 -J", 60)
            v, note = parse("up", rc, o, e)
            if v is None:
                why = f"probe (1 s of iperf3) failed: {note}"
                iperf.kill(); iperf.wait(); iperf = start_iperf()
        if why:
            res["ways"][way] = {"ok": False, "why": why}
            log(f"{way}: n/a: {why}")
        else:
            res["ways"][way] = {"ok": True}
            ways.append(way)

    for r in range(cfg["rounds"]):
        pairs = [(w, t) for w in ways for t in tests]
        random.shuffle(pairs)
        for way, test in pairs:
            rc, o, e, rss, extra = run_in(way, tests[test], timeouts[test])
            v, note = parse(test, rc, o, e)
            if v is None and test in ("up", "down"):
                # A broken test can leave iperf3's server waiting.
                iperf.kill(); iperf.wait(); iperf = start_iperf()
            res["runs"].append({"round": r + 1, "way": way, "test": test, "value": v, "note": note,
                                "rss_kb": rss, "others_kb": extra.get("others", {}) if extra else {},
                                "wall": extra.get("wall") if extra else None})
            unit = "Gbit/s" if test in ("up", "down") else "req/s"
            shown = f"{v:.2f} {unit}" if v is not None else f"failed ({note})"
            log(f"round {r + 1}/{cfg['rounds']}: {way} {test}: {shown}" + (f", peak RSS {rss} KiB" if rss else ""))

    order = list(ways)
    random.shuffle(order)
    for way in order:
        n = cfg["idle_conns"]
        rc, o, e, rss, extra = run_in(way, f"{NS} hold -addr {{ip}}:{echo_port} -n {n} -for {cfg['idle_hold']}s",
                                      cfg["idle_hold"] + 120)
        ok = rc == 0 and f"held {n}" in o
        res["idle"][way] = {"ok": ok, "rss_kb": rss, "others_kb": extra.get("others", {}) if extra else {},
                            "note": "" if ok else f"exit {rc}: {(e or o).strip()[-300:]}"}
        log(f"idle: {way}: {'held ' + str(n) if ok else 'failed: ' + res['idle'][way]['note']}" +
            (f", peak RSS {rss} KiB" if rss else ""))

    # Start-up, alternated: sbx run --net -- true and sbx run -- true.
    if cfg["startup_net_ok"]:
        log(f"start-up: {cfg['startup_runs']} alternated rounds")
        cmds = {"net": [cfg["sbx"], "run", "--net", "--", "true"], "plain": [cfg["sbx"], "run", "--", "true"]}
        st = {"net": [], "plain": []}
        try:
            for argv in cmds.values():
                subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
            for _ in range(cfg["startup_runs"]):
                names = list(cmds)
                random.shuffle(names)
                for name in names:
                    t0 = time.perf_counter()
                    subprocess.run(cmds[name], check=True, stdin=subprocess.DEVNULL)
                    st[name].append(time.perf_counter() - t0)
            res["startup_rounds"] = st
        except subprocess.CalledProcessError as err:
            res["startup_error"] = str(err)
finally:
    for p in servers + [iperf]:
        p.kill()
        p.wait()
    json.dump(res, open(out_path, "w"), indent=1)
PY

# The report: markdown from net.json.
cat >"$BENCH_TMP/bin/netreport.py" <<'PY'
import json, statistics, sys

res = json.load(open(sys.argv[1]))
cfg = res["config"]
ways = cfg["ways"]
label = {"host": "host loopback", "slirp4netns": "slirp4netns", "pasta": "pasta", "sbx": "sbx"}
tests = [("up", f"Bulk TCP, sandbox → host (iperf3, {cfg['iperf_time']} s) [Gbit/s]"),
         ("down", "Bulk TCP, host → sandbox (iperf3 -R) [Gbit/s]"),
         ("http1", f"HTTP, {cfg['http_requests']:,} requests, 1 at a time, new connection each [req/s]"),
         ("httpN", f"HTTP, {cfg['http_requests']:,} requests, {cfg['http_parallel']} in parallel, new connection each [req/s]")]


def values(way, test):
    return [r["value"] for r in res["runs"] if r["way"] == way and r["test"] == test and r["value"] is not None]


def med(way, test):
    v = values(way, test)
    return statistics.median(v) if v else None


def fmt(v, test):
    if v is None:
        return "n/a"
    return f"{v:.2f}" if test in ("up", "down") else f"{v:,.0f}"


def rat(a, b):
    return f"{a / b:.2f}" if a is not None and b else "—"


def mib(kb):
    return f"{kb / 1024:.1f}" if kb else "n/a"


peers = [w for w in ("slirp4netns", "pasta", "sbx") if w in ways]
# The ratio columns: each peer against the host's loopback, sbx against each peer.
pairs = [(w, "host") for w in peers if "host" in ways]
pairs += [("sbx", w) for w in ("slirp4netns", "pasta") if "sbx" in ways and w in ways]
head = ["Measure (medians)"] + [label[w] for w in ways] + [f"{a} / {'host' if b == 'host' else label[b]}" for a, b in pairs]
print("| " + " | ".join(head) + " |")
print("|:---|" + "---:|" * (len(head) - 1))
for test, name in tests:
    m = {w: med(w, test) for w in ways}
    row = [name] + [fmt(m[w], test) for w in ways] + [rat(m[a], m[b]) for a, b in pairs]
    print("| " + " | ".join(row) + " |")


def peak(way, kinds):
    v = [r["rss_kb"] for r in res["runs"] if r["way"] == way and r["test"] in kinds and r["rss_kb"]]
    return max(v) if v else None


def idle_rss(way):
    i = res["idle"].get(way)
    return i["rss_kb"] if i and i["ok"] else None


for key, name, get in (("bulk", "Peak RSS during the bulk runs (largest) [MiB]", lambda w: peak(w, ("up", "down"))),
                       ("http", "Peak RSS during the HTTP runs (largest) [MiB]", lambda w: peak(w, ("http1", "httpN"))),
                       ("idle", f"Peak RSS with {cfg['idle_conns']} idle TCP connections [MiB]", idle_rss)):
    m = {w: get(w) for w in ways}
    row = [name] + ["—" if w == "host" else mib(m[w]) for w in ways]
    row += ["—" if b == "host" else rat(m[a], m[b]) for a, b in pairs]
    print("| " + " | ".join(row) + " |")
print()
print("RSS is VmHWM of the process that carries the traffic: sbx's parent, slirp4netns, pasta (passt.avx2 after its exec).")
for way in ways:
    if not res["ways"].get(way, {}).get("ok"):
        print(f"- **{label[way]}: n/a**: {res['ways'].get(way, {}).get('why', 'not run')}")
others = {}
for r in res["runs"]:
    for kb in (r.get("others_kb") or {}).values():
        others["bulk runs"] = max(others.get("bulk runs", 0), kb)
for kb in (res["idle"].get("sbx", {}).get("others_kb") or {}).values():
    others["idle connections"] = max(others.get("idle connections", 0), kb)
if others:
    print("- other processes named sbx below sbx's parent, peak VmHWM: " +
          ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in others.items()))
failed = [r for r in res["runs"] if r["value"] is None]
if failed:
    print(f"- **{len(failed)} run(s) failed** and are left out of the medians: " +
          "; ".join(f"round {r['round']} {r['way']} {r['test']}: {r['note']}" for r in failed))
for way, i in res["idle"].items():
    if not i["ok"]:
        print(f"- idle connections, {label[way]}: failed: {i['note']}")
st = res.get("startup_rounds")
if res.get("startup_error"):
    print(f"- start-up, alternated rounds: failed: {res['startup_error']}")
if st:
    per = sorted(a / b for a, b in zip(st["net"], st["plain"]))
    q = statistics.quantiles(per, n=4)
    print(f"- start-up, {len(per)} alternated rounds (random order each): medians `--net` "
          f"{statistics.median(st['net']) * 1000:.1f} ms, without {statistics.median(st['plain']) * 1000:.1f} ms, "
          f"ratio {statistics.median(st['net']) / statistics.median(st['plain']):.3f}; per round median "
          f"{q[1]:.3f} (quartiles {q[0]:.3f}–{q[2]:.3f})")

print()
print("Raw numbers, every round (failed runs as ✗):")
print()
print("```")
for test, name in tests:
    print(name)
    for w in ways:
        rs = sorted((r for r in res["runs"] if r["way"] == w and r["test"] == test), key=lambda r: r["round"])
        if not rs:
            continue
        v = [fmt(r["value"], test) if r["value"] is not None else "✗" for r in rs]
        ok = values(w, test)
        span = f"  median {fmt(statistics.median(ok), test)}, min {fmt(min(ok), test)}, max {fmt(max(ok), test)}" if ok else ""
        rss = [r["rss_kb"] for r in rs if r["rss_kb"]]
        extra = f"; RSS {', '.join(mib(x) for x in rss)} MiB" if rss else ""
        notes = [r["note"] for r in rs if r["note"] and r["value"] is not None and test in ("up", "down")]
        retr = f"; {', '.join(n.replace('retransmits ', '') for n in notes)} retransmits" if notes else ""
        print(f"  {label[w]:14} {' '.join(v)}{span}{retr}{extra}")
print("idle connections: " + ", ".join(f"{label[w]} {'held' if i['ok'] else 'failed'}" +
                                       (f" ({mib(i['rss_kb'])} MiB)" if i["rss_kb"] else "")
                                       for w, i in res["idle"].items()))
print("```")
PY

# sbx's network: does `sbx run --net -- true` work at all (for start-up)?
startup_net_ok=false
startup_net_why=
if probe_out=$(as_user "$SBX" run --net -- true 2>&1); then
	startup_net_ok=true
else
	startup_net_why=$(printf '%s' "$probe_out" | tail -n 3 | tr '\n' ' ')
	echo "bench: sbx run --net -- true fails: $startup_net_why" >&2
fi

cfg=$W/net-config.json
python3 - "$cfg" <<EOF
import json, sys
json.dump({
    "rounds": $runs, "iperf_time": ${IPERF_TIME:-5}, "http_requests": ${HTTP_REQUESTS:-2000},
    "http_parallel": ${HTTP_PARALLEL:-16}, "idle_conns": ${IDLE_CONNS:-200}, "idle_hold": ${IDLE_HOLD:-3},
    "startup_runs": $startup_runs, "mtu": ${NET_MTU:-65520}, "ways": "$ways".split(),
    "sbx": "$SBX", "sbx_net_flags": "$sbx_net_flags", "slirp4netns": "$slirp_bin", "pasta": "$pasta_bin",
    "work": "$W", "startup_net_ok": "$startup_net_ok" == "true",
}, open(sys.argv[1], "w"))
EOF
chmod 0644 "$cfg"

load_start=$(settle)
t0=$(date +%s)
echo "bench: $runs interleaved rounds: ways: $ways" >&2
as_user python3 "$BENCH_TMP/bin/netbench.py" "$cfg" net.json
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

startup_lines=
if $startup_net_ok; then
	echo "bench: start-up, hyperfine, $startup_runs runs per command" >&2
	as_user hyperfine -N --warmup 5 --runs "$startup_runs" --time-unit millisecond \
		--export-json net-startup.json --export-markdown net-startup.md \
		-n 'sbx run -- true' "$SBX run -- true" \
		-n 'sbx run --net -- true' "$SBX run --net -- true" >&2
	json=$W/net-startup.json
	plain_med=$(hyperfine_median "$json" 0)
	net_med=$(hyperfine_median "$json" 1)
	r_start=$(ratio "$net_med" "$plain_med")
	r_cpu=$(ratio "$(hyperfine_cpu "$json" 1)" "$(hyperfine_cpu "$json" 0)")
	startup_lines="$(cat "$W/net-startup.md")

- medians: \`--net\` $(ms "$net_med") ms, without $(ms "$plain_med") ms; **\`sbx run --net -- true\` / \`sbx run -- true\`: $r_start** (target ≤ $startup_target): $(verdict "$r_start" "$startup_target")
- CPU time (user + system, means), \`--net\` / without: $r_cpu; $(spread "$json" | sed 's/inside/--net/g; s/outside/without/g')"
else
	startup_lines="- **n/a**: \`sbx run --net -- true\` fails: $startup_net_why"
fi

if [[ -n $out ]]; then
	mkdir -p "$out"
	cp "$W"/net.json "$W"/net-config.json "$out/"
	cp "$W"/net-startup.json "$W"/net-startup.md "$out/" 2>/dev/null || true
fi

ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
slirp_ver=$([[ -n $slirp_bin ]] && "$slirp_bin" --version 2>/dev/null | head -n1 | awk '{print $3}' || true)
libslirp_ver=$([[ -n $slirp_bin ]] && "$slirp_bin" --version 2>/dev/null | awk '/^libslirp/ {print $2}' || true)

cat <<EOF
### Network: the host's loopback, slirp4netns, pasta and \`sbx run --net slirp\`

$(machine_info)
- peers: slirp4netns ${slirp_ver:-n/a} (libslirp ${libslirp_ver:-?}), pasta from passt $(ver passt), iperf3 $(iperf3 --version | head -n1 | awk '{print $2}'), ab $(ab -V | awk 'NR == 1 {print $5}') (apache2-utils $(ver apache2-utils)); MTU ${NET_MTU:-65520} for slirp4netns and pasta
- sbx's way: \`sbx run $sbx_net_flags -- …\`
- $runs interleaved rounds (every way and test once per round, random order); iperf3 ${IPERF_TIME:-5} s a run; ab \`-n ${HTTP_REQUESTS:-2000}\`, \`-c 1\` and \`-c ${HTTP_PARALLEL:-16}\`, no \`-k\` (HTTP/1.0, a new connection per request), a 100-byte body from bench/netserver; the servers listen on 127.0.0.1 and are reached at 10.0.2.2 from every namespace
- load average: $load_start at the start, $load_end after the rounds ($(($(date +%s) - t0)) s)
${tun_note:+- **$tun_note**
}
$(python3 "$BENCH_TMP/bin/netreport.py" "$W/net.json")

#### Start-up: \`sbx run --net -- true\` against \`sbx run -- true\`

$startup_lines
EOF
