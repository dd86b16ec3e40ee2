#!/usr/bin/env bash
# Usage: bench/walk.sh [--runs N] [--out DIR]
#
# A cold walk of sbx's copy-on-write view of the host against the same walk
# on the host, as an unprivileged user: two commands, each in a fresh
# `sbx run` (every run mounts a new view, so nothing the view caches outlives
# its run) and the same command line on the host:
#
#   sh -c 'find /usr 2>/dev/null | wc -l'                   (every name: lookups, readdir, stat)
#   sh -c 'tar cf - /usr/include 2>/dev/null | wc -c'       (every byte of the headers too)
#   sbx run -- sh -c '...'                                   (the same, inside)
#
# The host's own caches are warm for both sides alike (one untimed run of
# each command first). The four commands alternate in rounds, in a random
# order each round (bench/interleave.py), so that drift hits all alike. Each
# run's output (the line count, the byte count) is kept and must be the same
# inside and outside in every run, else the script fails: the view must show
# the same tree. Errors for what the bench user cannot read go to /dev/null
# on both sides.
# Prints a markdown section on stdout with the ratio of medians inside/outside
# for each command (target ≤ 2) and the CPU ratios. Progress goes to stderr.
#
#   --runs N    rounds (default 5; each find is seconds inside)
#   --out DIR   also copy the JSON and markdown results and the outputs to DIR
#
# Run as root, it builds sbx from this checkout and runs everything as
# ${SBX_BENCH_USER:-sbxtest} (runuser); run as a normal user, as that user.
# Needs hyperfine (for the shared setup), python3, Go at /usr/local/go (or
# GO=...), find and tar.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
bench_args 5 "$@"
need find tar
bench_setup

target=2
W=$BENCH_TMP/work
find_cmd='find /usr 2>/dev/null | wc -l'
tar_cmd='tar cf - /usr/include 2>/dev/null | wc -c'
# The names in the table: a | escaped, as a markdown table cell needs it.
find_name='find /usr \| wc -l'
tar_name='tar cf - /usr/include \| wc -c'

# Command lines for interleave.py: each appends its output to a file of its
# own (on the host side of sbx run: the redirection is outside it).
host_find="sh -c '$find_cmd' >>find-host.txt"
sbx_find="$SBX run -- sh -c '$find_cmd' >>find-sbx.txt"
host_tar="sh -c '$tar_cmd' >>tar-host.txt"
sbx_tar="$SBX run -- sh -c '$tar_cmd' >>tar-sbx.txt"

# outputs_agree: every output of both sides of both commands the same, or
# the differences on stderr and a non-zero status.
outputs_agree() {
	python3 - "$W" <<'EOF'
import sys
w, ok = sys.argv[1], True
for cmd in ("find", "tar"):
    seen = {}
    for side in ("host", "sbx"):
        seen[side] = open(f"{w}/{cmd}-{side}.txt").read().split()
    if len(set(seen["host"] + seen["sbx"])) != 1:
        ok = False
        print(f"bench: {cmd}: outputs differ: host {seen['host']}, sbx run {seen['sbx']}", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# One untimed run of each (the host's caches warm, and each side must work
# and agree before its time means anything); sbx's report says which view
# the run had.
echo "bench: one untimed run of each command" >&2
as_user sh -c "$host_find" || die "find fails on the host"
as_user sh -c "$SBX run --report walk-report.json -- sh -c '$find_cmd' >>find-sbx.txt" ||
	die "find fails inside sbx run (try: $SBX doctor)"
as_user sh -c "$host_tar" || die "tar fails on the host"
as_user sh -c "$sbx_tar" || die "tar fails inside sbx run"
outputs_agree || die "the view shows another tree than the host's (see above)"
view=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("view", "unknown"))' "$W/walk-report.json")

echo "bench: $runs interleaved rounds" >&2
cp "$BENCH_REPO/bench/interleave.py" "$BENCH_TMP/bin/"
as_user python3 "$BENCH_TMP/bin/interleave.py" --warmup 0 --runs "$runs" \
	--json walk.json --markdown walk.md \
	"host: $find_name" "$host_find" \
	"sbx run: $find_name" "$sbx_find" \
	"host: $tar_name" "$host_tar" \
	"sbx run: $tar_name" "$sbx_tar" >&2

if [[ -n $out ]]; then
	mkdir -p "$out"
	cp "$W/walk.json" "$W/walk.md" "$W"/{find,tar}-{host,sbx}.txt "$out/"
fi
outputs_agree || die "the view showed another tree than the host's in a timed run (see above)"
lines=$(head -n1 "$W/find-host.txt")
bytes=$(head -n1 "$W/tar-host.txt")

json=$W/walk.json
secs() {
	python3 -c 'import sys; print(f"{float(sys.argv[1]):.2f}")' "$1"
}
find_host=$(hyperfine_median "$json" 0)
find_sbx=$(hyperfine_median "$json" 1)
tar_host=$(hyperfine_median "$json" 2)
tar_sbx=$(hyperfine_median "$json" 3)
r_find=$(ratio "$find_sbx" "$find_host")
r_tar=$(ratio "$tar_sbx" "$tar_host")
r_find_cpu=$(ratio "$(hyperfine_cpu "$json" 1)" "$(hyperfine_cpu "$json" 0)")
r_tar_cpu=$(ratio "$(hyperfine_cpu "$json" 3)" "$(hyperfine_cpu "$json" 2)")

cat <<EOF
### Walk: \`find /usr\` and \`tar cf - /usr/include\` in a fresh \`sbx run\` against the host

$(machine_info)
- view inside: \`$view\` (the report's \`view\`); every \`sbx run\` mounts a new one
- runs: $runs per command after 1 untimed run each, in $runs rounds that run all four in a random order (\`bench/interleave.py\`)

$(sed "s|$SBX|sbx|g; s|$W|\$W|g" "$W/walk.md")

- outputs: \`find /usr | wc -l\` $lines lines, \`tar cf - /usr/include | wc -c\` $bytes bytes, the same inside and outside in every run
- find, median: host $(secs "$find_host") s, sbx run $(secs "$find_sbx") s; sbx run / host: **$r_find** (target ≤ $target): $(verdict "$r_find" "$target"); CPU time (user + system, means) $r_find_cpu
- tar, median: host $(secs "$tar_host") s, sbx run $(secs "$tar_sbx") s; sbx run / host: **$r_tar** (target ≤ $target): $(verdict "$r_tar" "$target"); CPU time (user + system, means) $r_tar_cpu
- inside, the times include sbx's start-up (bench/startup.sh measures it) and the CPU times sbx's own processes, the FUSE server among them
EOF
