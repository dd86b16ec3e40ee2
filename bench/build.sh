#!/usr/bin/env bash
# Usage: bench/build.sh [--runs N] [--out DIR]
#
# A real, file-heavy build inside `sbx run` against the same build outside,
# side by side, as an unprivileged user: compile sbx, its dependencies and
# the parts of Go's standard library it uses, from a cold build cache
# (removed before every run). The two alternate in rounds, in a random order
# each round (bench/interleave.py): a build takes ~20 s, and this machine's
# speed drifts by more than the 3% the target allows over the minutes that
# hyperfine would spend on one side before starting the other.
#
#   cd $W && go build -C src -o /dev/null ./...
#   cd $W && sbx run --env GOCACHE --env GOMODCACHE --env GOFLAGS --env GOPROXY \
#                    --env GOTOOLCHAIN -- go build -C src -o /dev/null ./...
#
# with GOCACHE=$W/gocache GOMODCACHE=$W/modcache GOFLAGS=-mod=mod GOPROXY=off
# GOTOOLCHAIN=local, $W the bench user's directory holding a copy of this
# source tree (src) and a module cache filled from the caller's own (no
# network: GOPROXY=file://...). Inside, $W is the working directory, bound
# read-write; the rest of the host (Go's GOROOT included) is copy-on-write.
# Prints a markdown section on stdout with the ratio of medians inside/outside
# (target ≤ 1.03). Progress goes to stderr.
#
#   --runs N    rounds (default 10; 1 warm-up run of each first)
#   --out DIR   also copy the JSON and markdown results to DIR
#
# Run as root, it runs as ${SBX_BENCH_USER:-sbxtest} (runuser); run as a
# normal user, as that user. Needs hyperfine, python3, Go at /usr/local/go
# (or GO=...) and the modules of go.sum in the caller's module cache.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
bench_args 10 "$@"
bench_setup

target=1.03
W=$BENCH_TMP/work

# The source tree as it is now (tracked and untracked files, no .git), and a
# module cache filled from the caller's without touching the network.
echo "bench: copying the source tree and the module cache into $W" >&2
mkdir "$W/src"
tar -C "$BENCH_REPO" --exclude=./.git --exclude=./bench -cf - . | tar -C "$W/src" -xf -
host_modcache=$("$GO" env GOMODCACHE)
(cd "$W/src" && GOMODCACHE=$W/modcache GOPROXY=file://$host_modcache/cache/download \
	GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" mod download) ||
	die "cannot fill the module cache from $host_modcache (run go mod download once in $BENCH_REPO)"
[[ $(id -u) != 0 ]] || chown -R "$BENCH_USER:" "$W"

build=("$GO" build -C src -o /dev/null ./...)
go_env=("GOCACHE=$W/gocache" "GOMODCACHE=$W/modcache" GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local)
sbx_run=("$SBX" run --env GOCACHE --env GOMODCACHE --env GOFLAGS --env GOPROXY --env GOTOOLCHAIN --)

echo "bench: $runs interleaved rounds (each build a cold one of ~20-60 s)" >&2
cp "$BENCH_REPO/bench/interleave.py" "$BENCH_TMP/bin/"
as_user env "${go_env[@]}" python3 "$BENCH_TMP/bin/interleave.py" --warmup 1 --runs "$runs" \
	--prepare "rm -rf $W/gocache" --json build.json --markdown build.md \
	'outside: go build -C src -o /dev/null ./...' "${build[*]}" \
	'inside: sbx run --env … -- go build -C src -o /dev/null ./...' "${sbx_run[*]} ${build[*]}" >&2

json=$W/build.json
outside=$(hyperfine_median "$json" 0)
inside=$(hyperfine_median "$json" 1)
r=$(ratio "$inside" "$outside")
r_cpu=$(ratio "$(hyperfine_cpu "$json" 1)" "$(hyperfine_cpu "$json" 0)")
spread=$(spread "$json")

if [[ -n $out ]]; then
	mkdir -p "$out"
	cp "$W/build.json" "$W/build.md" "$out/"
fi

cat <<EOF
### Build: cold \`go build ./...\` of sbx inside and outside \`sbx run\`

$(machine_info)
- runs: $runs per command after 1 warm-up run each, in $runs rounds that run both in a random order (\`bench/interleave.py\`); \`rm -rf \$W/gocache\` before every run
- environment (both): ${go_env[*]//$W/\$W}, PATH=$BENCH_PATH

$(sed "s|$W|\$W|g" "$W/build.md")

- median: outside $(python3 -c "print(f'{$outside:.2f}')") s, inside $(python3 -c "print(f'{$inside:.2f}')") s
- inside / outside (medians): **$r** (target ≤ $target): $(verdict "$r" "$target")
- for the noise: $spread; CPU time (user + system, means) inside / outside $r_cpu
EOF
