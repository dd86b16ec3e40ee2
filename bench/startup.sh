#!/usr/bin/env bash
# Usage: bench/startup.sh [--runs N] [--out DIR]
#
# Start-up cost of `sbx run -- true` against two anchors measured in the same
# hyperfine invocation, as an unprivileged user:
#   bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --die-with-parent true
#   unshare -Urmpf --mount-proc true
# and bench/floor (a Go parent and a Go PID 1 that only create the
# namespaces, map ids, mount /proc and run the command: what any design with
# two Go processes pays here), with the caller alone mapped and, when the
# user has subordinate ranges, with them mapped through newuidmap/newgidmap.
# Prints a markdown section on stdout: the hyperfine table, the ratio of sbx's
# median to bwrap's (target ≤ 1.5), the floor's ratios, and sbx's peak RSS
# (GNU time %M, max over 10 runs). Progress goes to stderr.
#
#   --runs N    timed runs per command (default 100; 10 warm-up runs first)
#   --out DIR   also copy hyperfine's JSON and markdown exports to DIR
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

target=1.5
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

# Each tool must work for this user before its time means anything.
as_user "$SBX" run -- true || die "sbx run -- true fails for $BENCH_USER (try: $SBX doctor)"
as_user $floor_cmd || die "bench/floor fails for $BENCH_USER"
if [[ -n $floor_subid_cmd ]]; then
	as_user $floor_subid_cmd || die "bench/floor with subordinate ids fails for $BENCH_USER"
fi
as_user $bwrap_cmd || die "bwrap fails for $BENCH_USER"
as_user $unshare_cmd || die "unshare fails for $BENCH_USER"

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
r_bwrap=$(ratio "$sbx_median" "$bwrap_median")
r_unshare=$(ratio "$sbx_median" "$unshare_median")
floor_median=$(hyperfine_median "$json" 3)
floor_line="- floor, caller mapped / bwrap: **$(ratio "$floor_median" "$bwrap_median")** ($(ms "$floor_median") ms)"
if [[ -n $floor_subid_cmd ]]; then
	floor_subid_median=$(hyperfine_median "$json" 4)
	floor_line+="; floor, subordinate ids / bwrap: **$(ratio "$floor_subid_median" "$bwrap_median")** ($(ms "$floor_subid_median") ms); sbx / that floor: $(ratio "$sbx_median" "$floor_subid_median")"
else
	floor_line+="; sbx / floor: $(ratio "$sbx_median" "$floor_median") (no subordinate range for $BENCH_USER: sbx maps the caller alone too)"
fi
sbx_cpu=$(hyperfine_cpu "$json" 0)
bwrap_cpu=$(hyperfine_cpu "$json" 1)

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
	as_user /usr/bin/time -f %M -o rss.txt $bwrap_cmd
	bwrap_kib=$(<"$BENCH_TMP/work/rss.txt")
	rss_line="$max KiB ($(awk "BEGIN { printf \"%.1f\", $max / 1024 }") MiB), max over $rss_runs runs of \`/usr/bin/time -f %M sbx run -- true\` (for scale, bwrap: $bwrap_kib KiB)"
fi

if [[ -n $out ]]; then
	mkdir -p "$out"
	cp "$BENCH_TMP/work/startup.json" "$BENCH_TMP/work/startup.md" "$out/"
fi

cat <<EOF
### Start-up: \`sbx run -- true\`

$(machine_info)
- runs: $runs per command after 10 warm-up runs, \`hyperfine -N\`, one invocation

$(cat "$BENCH_TMP/work/startup.md")

- median: sbx $(ms "$sbx_median") ms, bwrap $(ms "$bwrap_median") ms, unshare $(ms "$unshare_median") ms
- sbx / bwrap (medians): **$r_bwrap** (target ≤ $target): $(verdict "$r_bwrap" "$target")
- sbx / unshare (medians): $r_unshare (no target; the floor of creating the namespaces)
$floor_line
- CPU time (user + system, means): sbx $(ms "$sbx_cpu") ms, bwrap $(ms "$bwrap_cpu") ms, ratio $(ratio "$sbx_cpu" "$bwrap_cpu")
- sbx peak RSS: $rss_line
EOF
