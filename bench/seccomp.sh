#!/usr/bin/env bash
# Usage: bench/seccomp.sh [--runs N] [--out DIR] [cbuild] [tree] [startup]
#
# What sbx's default seccomp filter (Docker's profile plus sbx's denials, one
# classic-BPF program) costs the command, as an unprivileged user: the same
# work under `sbx run` with the default filter against `sbx run --seccomp
# unconfined`, the anchor, measured in the same run. Three parts (all of them
# unless some are named):
#
#   cbuild   bench/cbuild.sh's generated C project (80 files, each including
#            the system headers), `make -s -C c -j$(nproc)` inside sbx, with
#            `make -s -C c clean` before every build, untimed; many forks,
#            execs, opens and stats. Target: default / unconfined ≤ 1.03.
#   tree     small syscalls: a generated tree of 40,000 files in 200
#            directories, a git repository with everything committed, which
#            is the workdir of the run (so sbx protects its .git as for any
#            repository). Two commands, each TREE_REPEAT (10) times in one run:
#              git status --porcelain        (an lstat per file, a readdir per directory)
#              find . -printf '%s\n'         (an fstatat per entry)
#            Target: default / unconfined ≤ 1.03 for each.
#   startup  `sbx run -- true` (the default filter), `sbx run --seccomp
#            unconfined -- true`, and for reference `sbx run --seccomp FILE
#            -- true` with FILE the smallest profile, {"defaultAction":
#            "SCMP_ACT_ALLOW"} (one instruction; as for any profile file, the
#            command starts through sbx's exec helper, a re-exec of sbx), in
#            one hyperfine invocation; then the same three in interleaved
#            rounds (spawned directly, wall and CPU time of each run), for
#            the median of the per-round differences. Target: the default's
#            median at most 1 ms above the unconfined one; verdicts for both
#            hyperfine's medians and the per-round differences. CPU time
#            (user + system) is printed too.
#
# cbuild and tree alternate their commands in rounds, in a random order each
# round (bench/interleave.py), so that the machine's drift hits both alike;
# each prints the ratio of medians, the median of the per-round ratios with
# its quartiles, fastest / fastest, slowest / slowest and the CPU ratio.
# Then, for scale and without a target, a small C program inside the default,
# unconfined and allow-all runs, timing calls of getppid (its verdict is
# constant: the kernel's seccomp action cache answers it without running the
# program) and of ioctl(FIONREAD) (ioctl's verdict depends on its command, so
# every call runs the program), 11 interleaved runs each. Before each part the
# script waits (at most 2 minutes) for the 1-minute load average to fall below
# 1, and prints the load it starts with.
#
# Prints a markdown section on stdout. Progress goes to stderr.
#
#   --runs N    rounds of cbuild (default 8); tree runs 2N rounds
#   --out DIR   also copy the JSON and markdown results to DIR
#
# Environment, to size the parts: CBUILD_ROUNDS, TREE_ROUNDS, TREE_REPEAT
# (default 10), STARTUP_RUNS (hyperfine runs per command and interleaved
# rounds, default 200). With the defaults, on this 2-CPU VM: cbuild about
# 3-4 minutes, tree about 3, startup about 2, the per-call figures under 1.
#
# Run as root, it builds sbx from this checkout and runs everything as
# ${SBX_BENCH_USER:-sbxtest} (runuser); run as a normal user, as that user.
# Needs hyperfine, python3, Go at /usr/local/go (or GO=...), make, a C
# compiler (cc) with the libc headers, git and find.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
parts=()
opts=()
for a in "$@"; do
	case $a in
	cbuild | tree | startup) parts+=("$a") ;;
	*) opts+=("$a") ;;
	esac
done
bench_args 8 "${opts[@]}"
((${#parts[@]})) || parts=(cbuild tree startup)
need make cc git find
bench_setup

target=1.03         # default / unconfined, medians, cbuild and tree
startup_target=1    # ms, default minus unconfined, medians
cbuild_rounds=${CBUILD_ROUNDS:-$runs}
tree_rounds=${TREE_ROUNDS:-$((2 * runs))}
tree_repeat=${TREE_REPEAT:-10}
startup_runs=${STARTUP_RUNS:-200}
tree_dirs=200       # directories of the generated tree
tree_files=200      # files in each
micro_calls=200000 # calls per batch of the C program (5 batches a run)
micro_runs=11
W=$BENCH_TMP/work
jobs=$(nproc)
cp "$BENCH_REPO/bench/interleave.py" "$BENCH_TMP/bin/"
interleave=(python3 "$BENCH_TMP/bin/interleave.py")
has() { [[ " ${parts[*]} " == *" $1 "* ]]; }

# settle: wait (at most 2 minutes) for the 1-minute load average to fall
# below 1, so that a part does not start under another user's build; prints
# the load averages it starts with.
settle() {
	local i
	for ((i = 0; i < 24; i++)); do
		awk '{ exit !($1 < 1.0) }' /proc/loadavg && break
		sleep 5
	done
	cut -d' ' -f1-3 /proc/loadavg
}

# The sbx command lines: the default (the flag left out, as users run it)
# and the anchor.
sbx_default="$SBX run --"
sbx_unconfined="$SBX run --seccomp unconfined --"

# The filter each runs: checked, not assumed (/proc/self/status inside).
filters() {
	as_user "$SBX" run "$@" -- sh -c 'grep -E "^Seccomp(_filters)?:" /proc/self/status | tr -s "\t\n" " "'
}
default_filters=$(filters) || die "sbx run -- sh fails for $BENCH_USER (try: $SBX doctor)"
unconfined_filters=$(filters --seccomp unconfined) || die "sbx run --seccomp unconfined fails"
[[ $default_filters == *"Seccomp: 2 "* && $unconfined_filters == *"Seccomp: 0 "* ]] ||
	die "unexpected seccomp state inside: default: $default_filters; unconfined: $unconfined_filters"

# pairstats JSON A B: default (index A) against unconfined (index B) of an
# interleaved run: ratio of medians, the per-round ratios' median and
# quartiles (each round ran both, so the pair saw the same machine), the
# fastest and slowest runs' ratios, and the CPU time ratio.
pairstats() {
	python3 - "$@" <<'EOF'
import json, statistics, sys
res = json.load(open(sys.argv[1]))["results"]
a, b = res[int(sys.argv[2])], res[int(sys.argv[3])]
per = sorted(x / y for x, y in zip(a["times"], b["times"]))
q = statistics.quantiles(per, n=4) if len(per) > 1 else [per[0]] * 3
cpu = (a["user"] + a["system"]) / (b["user"] + b["system"])
print(f"{a['median'] / b['median']:.3f}|{q[1]:.3f}|{q[0]:.3f}|{q[2]:.3f}|"
      f"{min(a['times']) / min(b['times']):.3f}|{max(a['times']) / max(b['times']):.3f}|{cpu:.3f}|"
      f"{a['median']:.3f}|{b['median']:.3f}")
EOF
}

# pair_lines NAME JSON A B: the markdown lines of one comparison.
pair_lines() {
	local name=$1 r q50 q25 q75 fast slow cpu ma mb
	IFS='|' read -r r q50 q25 q75 fast slow cpu ma mb < <(pairstats "$2" "$3" "$4")
	echo "- $name: median default ${ma} s, unconfined ${mb} s; default / unconfined (medians) **$r** (target ≤ $target): $(verdict "$r" "$target")"
	echo "  - per round, default / unconfined: median $q50, quartiles $q25–$q75; fastest / fastest $fast, slowest / slowest $slow; CPU time (user + system, means) $cpu"
}

sections=()

if has cbuild; then
	# bench/cbuild.sh's generator, taken from that script as it is, so that
	# both benchmarks build the same project: from the list of headers to the
	# chown of the tree.
	# shellcheck disable=SC2034 # both used by the generator
	C=$W/c
	nfiles=80
	gen=$(sed -n '/^# The system headers every source file includes/,/^\[\[ \$(id -u) != 0 \]\] || chown -R "\$BENCH_USER:" "\$C"$/p' "$BENCH_REPO/bench/cbuild.sh")
	[[ $gen == *'cat >"$C/Makefile"'* && $gen == *'chown -R'* ]] ||
		die "cannot find the C project's generator in bench/cbuild.sh (its markers moved)"
	eval "$gen"
	make_cmd="make -s -C c -j$jobs"
	as_user make -s -C c clean
	as_user $sbx_default $make_cmd >&2 || die "the C project does not build inside sbx run"
	as_user c/prog >/dev/null || die "the C program built inside does not run"
	as_user make -s -C c clean
	as_user $sbx_unconfined $make_cmd >&2 || die "the C project does not build inside sbx run --seccomp unconfined"

	cbuild_load=$(settle)
	echo "bench: C build, $cbuild_rounds interleaved rounds" >&2
	as_user "${interleave[@]}" --warmup 1 --runs "$cbuild_rounds" \
		--prepare "make -s -C c clean" --json seccomp-cbuild.json --markdown seccomp-cbuild.md \
		"default: sbx run -- $make_cmd" "$sbx_default $make_cmd" \
		"unconfined: sbx run --seccomp unconfined -- $make_cmd" "$sbx_unconfined $make_cmd" >&2
	sections+=("#### C build: \`make -j$jobs\` of bench/cbuild.sh's project ($nfiles files × ${#headers[@]} system headers)

- load average at the start: $cbuild_load
- runs: $cbuild_rounds per command after 1 warm-up run each, in $cbuild_rounds rounds in a random order; \`make -s -C c clean\` before every run

$(cat "$W/seccomp-cbuild.md")

$(pair_lines 'C build' "$W/seccomp-cbuild.json" 0 1)")
fi

if has tree; then
	T=$W/tree
	echo "bench: generating $((tree_dirs * tree_files)) files in $T and committing them" >&2
	as_user python3 - "$T" "$tree_dirs" "$tree_files" <<'EOF'
import os, sys
root, dirs, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(dirs):
    sub = os.path.join(root, f"d{d:03}", f"s{d % 7}")
    os.makedirs(sub, exist_ok=True)
    for f in range(files):
        with open(os.path.join(sub, f"f{f:03}.c"), "w") as fh:
            fh.write(f"int f{d}_{f}(void) {{ return {d * files + f}; }}\n")
EOF
	git_env=(env GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
		GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost)
	# gc.auto=0 and a gc of our own: the commit's automatic gc would pack
	# the loose objects in the background, under the first measurements.
	as_user sh -c 'cd tree && git init -q . && git config gc.auto 0 && git add -A &&
		"$@" git commit -q -m tree && git gc -q' sh "${git_env[@]}" ||
		die "cannot commit the tree"
	# Inside, the files are the command's own (uid 0 there) while the index
	# holds the host's ids: the first git status inside refreshes every entry
	# and writes the index back. After that one, a git status writes
	# nothing. One second first, so that no entry is racily clean.
	sleep 1.1
	# The two loops (inside, /tmp is a new tmpfs: no script of ours there).
	status_loop="for i in \$(seq $tree_repeat); do git status --porcelain; done"
	find_loop="for i in \$(seq $tree_repeat); do find . -printf \"%s\\n\"; done"
	status_sh="sh -c '$status_loop'"
	find_sh="sh -c '$find_loop'"
	as_user sh -c "cd tree && $sbx_default git status --porcelain" >/dev/null || die "git status fails inside sbx run"
	index_before=$(stat -c %Y.%y "$T/.git/index")
	dirty=$(as_user sh -c "cd tree && $sbx_unconfined git status --porcelain" | wc -l)
	[[ $dirty == 0 ]] || die "git status inside reports $dirty changes in the committed tree"
	entries=$(as_user sh -c "cd tree && $sbx_default find . -printf '%s\\n'" | wc -l)
	((entries > tree_dirs * tree_files)) || die "find inside sees $entries entries"
	[[ $(stat -c %Y.%y "$T/.git/index") == "$index_before" ]] ||
		echo "bench: warning: git status inside rewrites the index from run to run" >&2
	tree_load=$(settle)
	echo "bench: tree, $tree_rounds interleaved rounds of 4 commands" >&2
	as_user "${interleave[@]}" --warmup 1 --runs "$tree_rounds" \
		--json seccomp-tree.json --markdown seccomp-tree.md \
		"default: git status ×$tree_repeat" "cd tree && $sbx_default $status_sh >/dev/null" \
		"unconfined: git status ×$tree_repeat" "cd tree && $sbx_unconfined $status_sh >/dev/null" \
		"default: find -printf ×$tree_repeat" "cd tree && $sbx_default $find_sh >/dev/null" \
		"unconfined: find -printf ×$tree_repeat" "cd tree && $sbx_unconfined $find_sh >/dev/null" >&2
	sections+=("#### Small syscalls: \`git status\` and \`find\` over $((tree_dirs * tree_files)) files

- tree: $tree_dirs directories of $tree_files files ($entries entries for find), committed; the workdir of every run is the repository (its \`.git\` protected as usual); each command $tree_repeat times in one \`sbx run\`: \`sbx run -- $status_sh\` and \`sbx run -- $find_sh\`
- load average at the start: $tree_load
- runs: $tree_rounds per command after 1 warm-up run each, in $tree_rounds rounds in a random order

$(cat "$W/seccomp-tree.md")

$(pair_lines 'git status' "$W/seccomp-tree.json" 0 1)
$(pair_lines 'find' "$W/seccomp-tree.json" 2 3)")
fi

# For scale: what one call costs with and without running the program, and
# under the smallest filter (what the kernel charges for any filter).
echo '{"defaultAction": "SCMP_ACT_ALLOW"}' >"$W/allow-all.json"
chmod 0644 "$W/allow-all.json"
sbx_allow="$SBX run --seccomp $W/allow-all.json --"
as_user $sbx_allow true || die "sbx run --seccomp allow-all.json fails"
cat >"$W/sysmicro.c" <<'EOF'
/* ns per call of getppid and of ioctl(FIONREAD) on a pipe: the best of 5
   batches of N calls each. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int p[2], v;
	double best[2] = {1e30, 1e30};
	if (pipe(p) != 0)
		return 1;
	for (int r = 0; r < 5; r++) {
		double t0 = now();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		double t1 = now();
		for (long i = 0; i < n; i++)
			ioctl(p[0], FIONREAD, &v);
		double t2 = now();
		if ((t1 - t0) / n < best[0])
			best[0] = (t1 - t0) / n;
		if ((t2 - t1) / n < best[1])
			best[1] = (t2 - t1) / n;
	}
	printf("%.1f %.1f\n", best[0], best[1]);
	return 0;
}
EOF
[[ $(id -u) != 0 ]] || chown "$BENCH_USER:" "$W/sysmicro.c"
as_user cc -O2 -o sysmicro sysmicro.c || die "cannot compile the C program of the per-call figures"
for side in default unconfined allow-all; do
	: >"$W/micro-$side.txt"
done
[[ $(id -u) != 0 ]] || chown "$BENCH_USER:" "$W"/micro-*.txt
micro_load=$(settle)
echo "bench: per-call cost, $micro_runs interleaved rounds" >&2
as_user "${interleave[@]}" --warmup 1 --runs "$micro_runs" --json seccomp-micro.json --markdown seccomp-micro.md \
	default "$sbx_default ./sysmicro $micro_calls >>micro-default.txt" \
	unconfined "$sbx_unconfined ./sysmicro $micro_calls >>micro-unconfined.txt" \
	allow-all "$sbx_allow ./sysmicro $micro_calls >>micro-allow-all.txt" 2>/dev/null
micro_line=$(python3 - "$W" <<'EOF'
import statistics, sys
m = {}
for side in ("default", "unconfined", "allow-all"):
    rows = [tuple(map(float, l.split())) for l in open(f"{sys.argv[1]}/micro-{side}.txt")][1:]  # the first: the warm-up
    m[side] = [statistics.median(c) for c in zip(*rows)]
d, u, a = m["default"], m["unconfined"], m["allow-all"]
print(f"getppid {d[0]:.0f} ns with the default filter, {u[0]:.0f} ns unconfined ({d[0] - u[0]:+.0f} ns), "
      f"{a[0]:.0f} ns under allow-all ({a[0] - u[0]:+.0f} ns); "
      f"ioctl(FIONREAD) {d[1]:.0f} ns, {u[1]:.0f} ns ({d[1] - u[1]:+.0f} ns), {a[1]:.0f} ns ({a[1] - u[1]:+.0f} ns)")
EOF
)
sections+=("#### For scale: one system call (no target)

- load average at the start: $micro_load
- a C program inside times batches of $micro_calls calls (the best of 5 batches per run); medians of $micro_runs interleaved runs each: $micro_line
- getppid's verdict is constant, so the kernel's action cache allows it without running the program: what it pays is the kernel's entry path for a task with any filter, which allow-all (one instruction) shows too. ioctl's verdict depends on its command (TIOCSTI and TIOCLINUX are denied), so each ioctl also runs the program up to its ioctl block.")

if has startup; then
	# Each round runs the three in a random order; wall time and the CPU
	# time of the waited-for tree (wait4's rusage: sbx, the id helpers, PID 1
	# and the command) of each run.
	cat >"$BENCH_TMP/bin/rounds.py" <<'PY'
import json, os, random, sys, time
n, warmup, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names, cmds = sys.argv[4::2], [c.split() for c in sys.argv[5::2]]
def run(argv):
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{' '.join(argv)}: status {status}")
    return wall, ru.ru_utime + ru.ru_stime
for argv in cmds:
    for _ in range(warmup):
        run(argv)
res = {name: {"wall": [], "cpu": []} for name in names}
for _ in range(n):
    order = list(range(len(cmds)))
    random.shuffle(order)
    for i in order:
        wall, cpu = run(cmds[i])
        res[names[i]]["wall"].append(wall)
        res[names[i]]["cpu"].append(cpu)
json.dump(res, open(out, "w"))
PY
	startup_load=$(settle)
	echo "bench: start-up, hyperfine, $startup_runs runs per command" >&2
	as_user hyperfine -N --warmup 10 --runs "$startup_runs" --time-unit millisecond \
		--export-json seccomp-startup.json --export-markdown seccomp-startup.md \
		-n 'sbx run -- true (default filter)' "$sbx_default true" \
		-n 'sbx run --seccomp unconfined -- true' "$sbx_unconfined true" \
		-n 'sbx run --seccomp allow-all.json -- true' "$sbx_allow true" >&2
	echo "bench: start-up, $startup_runs interleaved rounds" >&2
	as_user python3 "$BENCH_TMP/bin/rounds.py" "$startup_runs" 5 seccomp-startup-rounds.json \
		default "$sbx_default true" unconfined "$sbx_unconfined true" allow-all "$sbx_allow true"
	json=$W/seccomp-startup.json
	d_med=$(hyperfine_median "$json" 0)
	u_med=$(hyperfine_median "$json" 1)
	a_med=$(hyperfine_median "$json" 2)
	d_cpu=$(hyperfine_cpu "$json" 0)
	u_cpu=$(hyperfine_cpu "$json" 1)
	a_cpu=$(hyperfine_cpu "$json" 2)
	# ms_verdict DIFF_MS: met or not against the start-up target.
	ms_verdict() {
		python3 -c "
d = float('$1')
print(f'**met** ({d:+.2f} ms ≤ $startup_target ms)' if d <= $startup_target else f'**not met**: {d:+.2f} ms > $startup_target ms')"
	}
	diff_ms=$(python3 -c "print(f'{($d_med - $u_med) * 1000:.2f}')")
	rounds_out=$(python3 - "$W/seccomp-startup-rounds.json" <<'EOF'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
def per(key, a, b):
    return sorted((x - y) * 1000 for x, y in zip(r[a][key], r[b][key]))
def med(key, name):
    return statistics.median(r[name][key]) * 1000
w, c = per("wall", "default", "unconfined"), per("cpu", "default", "unconfined")
qw, qc = statistics.quantiles(w, n=4), statistics.quantiles(c, n=4)
aw, ac = statistics.median(per("wall", "allow-all", "unconfined")), statistics.median(per("cpu", "allow-all", "unconfined"))
print(f"{qw[1]:.2f}")
print(f"medians: wall default {med('wall', 'default'):.1f} ms, unconfined {med('wall', 'unconfined'):.1f} ms, "
      f"allow-all {med('wall', 'allow-all'):.1f} ms; CPU default {med('cpu', 'default'):.1f} ms, "
      f"unconfined {med('cpu', 'unconfined'):.1f} ms, allow-all {med('cpu', 'allow-all'):.1f} ms. "
      f"Per round, default − unconfined: wall median **{qw[1]:+.2f} ms** (quartiles {qw[0]:+.2f} to {qw[2]:+.2f}), "
      f"CPU median **{qc[1]:+.2f} ms** (quartiles {qc[0]:+.2f} to {qc[2]:+.2f}); "
      f"allow-all − unconfined: wall {aw:+.2f} ms, CPU {ac:+.2f} ms")
EOF
	)
	paired_wall=${rounds_out%%$'\n'*}
	rounds_line=${rounds_out#*$'\n'}
	sections+=("#### Start-up: \`sbx run -- true\`

- load average at the start: $startup_load
- runs: $startup_runs per command after 10 warm-up runs, \`hyperfine -N\`, one invocation; \`allow-all.json\` is \`{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\`, a profile file, so its command starts through sbx's exec helper (as under every profile file)

$(sed "s|$W/||g" "$W/seccomp-startup.md")

- hyperfine medians: default $(ms "$d_med") ms, unconfined $(ms "$u_med") ms, allow-all $(ms "$a_med") ms; default − unconfined **$diff_ms ms** (target ≤ $startup_target ms): $(ms_verdict "$diff_ms")
- hyperfine CPU time (user + system, means): default $(ms "$d_cpu") ms, unconfined $(ms "$u_cpu") ms, allow-all $(ms "$a_cpu") ms; default − unconfined $(python3 -c "print(f'{($d_cpu - $u_cpu) * 1000:+.2f}')") ms
- the same three, $startup_runs rounds in a random order after 5 warm-up runs each (spawned directly; CPU time from wait4's rusage): $rounds_line
- default − unconfined, per round (wall, median): $(ms_verdict "$paired_wall")")
fi

if [[ -n $out ]]; then
	mkdir -p "$out"
	cp "$W"/seccomp-*.json "$W"/seccomp-*.md "$W"/micro-*.txt "$out/" 2>/dev/null || true
fi

cat <<EOF
### Seccomp: the default filter against \`--seccomp unconfined\`

$(machine_info)
- inside, default: \`$default_filters\`; unconfined: \`$unconfined_filters\` (/proc/self/status)
- parts: ${parts[*]}

EOF
for s in "${sections[@]}"; do
	printf '%s\n\n' "$s"
done
