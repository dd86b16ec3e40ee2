#!/usr/bin/env bash
# Usage: bench/startup.sh [--runs N] [--out DIR]
#
# Start-up cost of `sbx run -- true`, as an unprivileged user, against
# bench/floor (a Go parent and a Go PID 1 that only create the namespaces,
# map ids, mount /proc and run the command: what any design with two Go
# processes pays here) measured in the same hyperfine invocation, with the
# caller alone mapped and, when the user has subordinate ranges, with them
# mapped through newuidmap/newgidmap. For scale, the same invocation also times
#   bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --die-with-parent true
#   unshare -Urmpf --mount-proc true
# The targets are against the floor sbx is comparable with (subordinate ids
# when the user has a range, as sbx then maps them too, else the caller
# mapped): sbx's median at most 1.5 times the floor's, and sbx's CPU time
# (user + system, means) at most 2 times the floor's. sbx / bwrap is printed
# without a target.
#
# Then 500 runs of `sbx run -- true` back to back (a plain loop, not
# hyperfine, each run timed on its own) with a state directory of their own:
# the median of the last 50 over the median of the first 50 (target ≤ 1.1)
# shows whether something accumulates from run to run (state left behind,
# caches growing), and the entries left in that state directory are counted.
#
# Prints a markdown section on stdout: the hyperfine table, the ratios and
# their verdicts, the loop's figures, and sbx's peak RSS (GNU time %M, max
# over 10 runs). Progress goes to stderr.
#
#   --runs N    timed runs per command (default 100; 10 warm-up runs first)
#   --out DIR   also copy hyperfine's JSON and markdown exports, and the
#               loop's times (loop.json), to DIR
#
# Run as root, it builds sbx from this checkout and runs everything as
# ${SBX_BENCH_USER:-sbxtest} (runuser); run as a normal user, as that user.
# Needs hyperfine, bwrap, unshare (util-linux), python3, Go at /usr/local/go
# (or GO=...), and GNU time (/usr/bin/time) for the RSS figure.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
bench_args 100 "$@"
need bwrap unshare
bench_setup
(cd "$BENCH_REPO" && CGO_ENABLED=0 GOTOOLCHAIN=local "$GO" build -o "$BENCH_TMP/bin/floor" ./bench/floor) ||
	die "cannot build bench/floor"
FLOOR=$BENCH_TMP/bin/floor
chmod 0755 "$FLOOR"

target=1.5     # sbx / floor, medians
cpu_target=2   # sbx / floor, CPU time (user + system, means)
loop_runs=500  # back-to-back runs of sbx run -- true
loop_window=50 # the first and the last so many of them are compared
loop_target=1.1
rss_runs=10
bwrap_cmd='bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --die-with-parent true'
unshare_cmd='unshare -Urmpf --mount-proc true'

# The user's subordinate ranges (what sbx maps by default), START:COUNT.
subrange() {
	awk -F: -v u="$BENCH_USER" -v id="$(id -u "$BENCH_USER")" '($1 == u || $1 == id) { print $2 ":" $3; exit }' "$1" 2>/dev/null
}
subuid=$(subrange /etc/subuid)
subgid=$(subrange /etc/subgid)
floor_cmd="$FLOOR true"
floor_subid_cmd=
if [[ -n $subuid && -n $subgid ]] && command -v newuidmap >/dev/null; then
	floor_subid_cmd="$FLOOR -subuid $subuid -subgid $subgid true"
fi

# The command lines above as words, to run them outside hyperfine.
read -ra floor_argv <<<"$floor_cmd"
read -ra floor_subid_argv <<<"$floor_subid_cmd"
read -ra bwrap_argv <<<"$bwrap_cmd"
read -ra unshare_argv <<<"$unshare_cmd"

# Each tool must work for this user before its time means anything.
as_user "$SBX" run -- true || die "sbx run -- true fails for $BENCH_USER (try: $SBX doctor)"
as_user "${floor_argv[@]}" || die "bench/floor fails for $BENCH_USER"
if [[ -n $floor_subid_cmd ]]; then
	as_user "${floor_subid_argv[@]}" || die "bench/floor with subordinate ids fails for $BENCH_USER"
fi
as_user "${bwrap_argv[@]}" || die "bwrap fails for $BENCH_USER"
as_user "${unshare_argv[@]}" || die "unshare fails for $BENCH_USER"

floor_subid_args=()
if [[ -n $floor_subid_cmd ]]; then
	floor_subid_args=(-n 'floor: Go parent + Go PID 1, subordinate ids' "$floor_subid_cmd")
fi
echo "bench: hyperfine, $runs runs per command" >&2
as_user hyperfine -N --warmup 10 --runs "$runs" --time-unit millisecond \
	--export-json startup.json --export-markdown startup.md \
	-n 'sbx run -- true' "$SBX run -- true" \
	-n "$bwrap_cmd" "$bwrap_cmd" \
	-n "$unshare_cmd" "$unshare_cmd" \
	-n 'floor: Go parent + Go PID 1, caller mapped' "$floor_cmd" \
	"${floor_subid_args[@]}" >&2

json=$BENCH_TMP/work/startup.json
sbx_median=$(hyperfine_median "$json" 0)
bwrap_median=$(hyperfine_median "$json" 1)
unshare_median=$(hyperfine_median "$json" 2)
floor_caller_median=$(hyperfine_median "$json" 3)
sbx_cpu=$(hyperfine_cpu "$json" 0)
bwrap_cpu=$(hyperfine_cpu "$json" 1)

# The floor sbx is held to: the one that maps ids as sbx does for this user.
if [[ -n $floor_subid_cmd ]]; then
	floor_index=4
	floor_name='floor with subordinate ids'
	floor_why="$BENCH_USER has subordinate ranges ($subuid, $subgid), which sbx maps by default"
else
	floor_index=3
	floor_name='floor with the caller mapped'
	floor_why="no subordinate range for $BENCH_USER (or no newuidmap): sbx maps the caller alone too"
fi
floor_median=$(hyperfine_median "$json" "$floor_index")
floor_cpu=$(hyperfine_cpu "$json" "$floor_index")
r_floor=$(ratio "$sbx_median" "$floor_median")
r_floor_cpu=$(ratio "$sbx_cpu" "$floor_cpu")
r_bwrap=$(ratio "$sbx_median" "$bwrap_median")
r_unshare=$(ratio "$sbx_median" "$unshare_median")
medians_line="- median: sbx $(ms "$sbx_median") ms, floor with the caller mapped $(ms "$floor_caller_median") ms"
floors_line="- for scale (no target): floor with the caller mapped / bwrap $(ratio "$floor_caller_median" "$bwrap_median")"
if [[ -n $floor_subid_cmd ]]; then
	medians_line+=", floor with subordinate ids $(ms "$floor_median") ms"
	floors_line+=", floor with subordinate ids / bwrap $(ratio "$floor_median" "$bwrap_median")"
fi
medians_line+=", bwrap $(ms "$bwrap_median") ms, unshare $(ms "$unshare_median") ms"

# Peak RSS: GNU time's %M is ru_maxrss of the waited-for process tree, i.e.
# the largest resident set among sbx, its PID 1 re-exec and the command.
rss_line="not measured: GNU time is missing (apt-get install -y time)"
if [[ -x /usr/bin/time ]] && /usr/bin/time --version 2>&1 | grep -q GNU; then
	max=0
	for ((i = 0; i < rss_runs; i++)); do
		as_user /usr/bin/time -f %M -o rss.txt "$SBX" run -- true
		kib=$(<"$BENCH_TMP/work/rss.txt")
		if ((kib > max)); then max=$kib; fi
	done
	as_user /usr/bin/time -f %M -o rss.txt "${bwrap_argv[@]}"
	bwrap_kib=$(<"$BENCH_TMP/work/rss.txt")
	rss_line="$max KiB ($(awk "BEGIN { printf \"%.1f\", $max / 1024 }") MiB), max over $rss_runs runs of \`/usr/bin/time -f %M sbx run -- true\` (for scale, bwrap: $bwrap_kib KiB)"
fi

# Runs back to back: does anything accumulate? A plain loop (hyperfine would
# hide a trend behind its summary), each run timed on its own, with a state
# directory of its own (SBX_STATE_DIR; on /var/tmp, the default's file
# system) so that other users of this account on a shared machine do not
# blur the count of what is left behind. One untimed run first makes what a
# first run caches there (the overlay driver's probe).
loop_state=$(mktemp -d /var/tmp/sbx-bench-state.XXXXXX)
trap 'rm -rf "$loop_state"; bench_cleanup' EXIT
chmod 0700 "$loop_state"
[[ $(id -u) != 0 ]] || chown "$BENCH_USER:" "$loop_state"
as_user env "SBX_STATE_DIR=$loop_state" "$SBX" run -- true ||
	die "sbx run -- true fails with SBX_STATE_DIR=$loop_state"
entries_before=$(find "$loop_state" -mindepth 1 | wc -l)
cat >"$BENCH_TMP/bin/loop.py" <<'PY'
import json, subprocess, sys, time
sbx, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = []
for _ in range(n):
    start = time.perf_counter()
    subprocess.run([sbx, "run", "--", "true"], check=True, stdin=subprocess.DEVNULL)
    times.append(time.perf_counter() - start)
with open(out, "w") as f:
    json.dump({"times": times}, f)
PY
echo "bench: $loop_runs runs of sbx run -- true back to back" >&2
as_user env "SBX_STATE_DIR=$loop_state" python3 "$BENCH_TMP/bin/loop.py" "$SBX" "$loop_runs" loop.json
entries_after=$(find "$loop_state" -mindepth 1 | wc -l)
runs_left=$(find "$loop_state" -mindepth 1 -maxdepth 1 -name 'run-*' | wc -l)
read -r loop_first loop_last loop_blocks < <(python3 - "$BENCH_TMP/work/loop.json" "$loop_window" <<'PY'
import json, statistics, sys
t = json.load(open(sys.argv[1]))["times"]
w = int(sys.argv[2])
blocks = [statistics.median(t[i:i + 100]) * 1000 for i in range(0, len(t), 100)]
print(statistics.median(t[:w]), statistics.median(t[-w:]), ", ".join(f"{b:.1f}" for b in blocks))
PY
)
r_loop=$(ratio "$loop_last" "$loop_first")

if [[ -n $out ]]; then
	mkdir -p "$out"
	cp "$BENCH_TMP/work/startup.json" "$BENCH_TMP/work/startup.md" "$BENCH_TMP/work/loop.json" "$out/"
fi

cat <<MD
### Start-up: \`sbx run -- true\`

$(machine_info)
- runs: $runs per command after 10 warm-up runs, \`hyperfine -N\`, one invocation

$(cat "$BENCH_TMP/work/startup.md")

$medians_line
- sbx / $floor_name (medians): **$r_floor** (target ≤ $target): $(verdict "$r_floor" "$target"); the floor held to: $floor_why
- sbx / $floor_name (CPU time, user + system, means): **$r_floor_cpu** (target ≤ $cpu_target): $(verdict "$r_floor_cpu" "$cpu_target"); sbx $(ms "$sbx_cpu") ms, floor $(ms "$floor_cpu") ms, bwrap $(ms "$bwrap_cpu") ms
- sbx / bwrap (medians): $r_bwrap (no target; CPU time $(ratio "$sbx_cpu" "$bwrap_cpu")); sbx / unshare (medians): $r_unshare (no target; the floor of creating the namespaces)
$floors_line
- $loop_runs runs back to back (a loop, each run timed on its own): median of the last $loop_window / median of the first $loop_window: **$r_loop** (target ≤ $loop_target): $(verdict "$r_loop" "$loop_target"); first $(ms "$loop_first") ms, last $(ms "$loop_last") ms; medians per 100 runs: $loop_blocks ms
- state directory of those runs (SBX_STATE_DIR): entries after one run $entries_before, after the loop $entries_after, of them run directories $runs_left
- sbx peak RSS: $rss_line
MD
