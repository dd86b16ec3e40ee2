# Helpers shared by bench/startup.sh and bench/build.sh. Source it; do not run it.
#
# After bench_setup:
#   BENCH_USER  the unprivileged user the benchmarks run as
#   BENCH_HOME  that user's home directory
#   BENCH_TMP   a fresh directory that user owns (removed on exit)
#   SBX         a static sbx binary built from this checkout, readable by that user
# as_user CMD... runs CMD as BENCH_USER in a small, fixed environment.

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
GO=${GO:-/usr/local/go/bin/go}

# bench_args DEFAULT_RUNS ARGS...: reads --runs N and --out DIR into $runs
# and $out; --help prints the calling script's header comment.
bench_args() {
	runs=$1
	out=
	shift
	while (($#)); do
		case $1 in
		--runs) runs=${2:?--runs needs a number}; shift 2 ;;
		--out) out=${2:?--out needs a directory}; shift 2 ;;
		-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
		*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
		esac
	done
	[[ $runs =~ ^[0-9]+$ && $runs -ge 2 ]] || { echo "--runs must be a number ≥ 2" >&2; exit 2; }
}

die() {
	echo "bench: $*" >&2
	exit 1
}

need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool is needed (apt-get install -y $tool)"
	done
}

bench_cleanup() {
	if [[ -n ${BENCH_TMP:-} && -d $BENCH_TMP ]]; then
		# The Go module cache is read-only by design.
		chmod -R u+w "$BENCH_TMP" 2>/dev/null || true
		rm -rf "$BENCH_TMP"
	fi
}

bench_setup() {
	need hyperfine python3
	[[ -x $GO ]] || die "Go not found at $GO (set GO=/path/to/go)"

	if [[ $(id -u) == 0 ]]; then
		BENCH_USER=${SBX_BENCH_USER:-sbxtest}
		id "$BENCH_USER" >/dev/null 2>&1 || die "user $BENCH_USER does not exist (set SBX_BENCH_USER)"
		[[ $(id -u "$BENCH_USER") != 0 ]] || die "SBX_BENCH_USER must be an unprivileged user"
	else
		BENCH_USER=$(id -un)
	fi
	BENCH_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
	[[ -d $BENCH_HOME ]] || die "home directory of $BENCH_USER ($BENCH_HOME) does not exist"

	BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
	BENCH_TMP=$(mktemp -d /tmp/sbx-bench.XXXXXX)
	trap bench_cleanup EXIT
	chmod 0755 "$BENCH_TMP"
	mkdir "$BENCH_TMP/bin" "$BENCH_TMP/work"

	SBX=$BENCH_TMP/bin/sbx
	if [[ -n ${SBX_GIVEN:-} ]]; then
		# A prebuilt binary (SBX=path), copied where the user can run it.
		[[ -x $SBX_GIVEN ]] || die "SBX=$SBX_GIVEN is not an executable"
		cp "$SBX_GIVEN" "$SBX"
		BENCH_REV="given as SBX=$SBX_GIVEN ($("$SBX" version 2>/dev/null | head -n1 || echo 'no version'))"
	else
		# What was built: the commit, and whether the tree differed from it.
		BENCH_REV=$(cd "$BENCH_REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
		if ! (cd "$BENCH_REPO" && git diff --quiet HEAD -- . ':!bench' 2>/dev/null); then
			BENCH_REV+=" (with uncommitted changes)"
		fi
		echo "bench: building sbx from $BENCH_REPO" >&2
		(cd "$BENCH_REPO" && CGO_ENABLED=0 GOTOOLCHAIN=local "$GO" build -o "$SBX" .) ||
			die "cannot build sbx from $BENCH_REPO"
	fi
	chmod 0755 "$BENCH_TMP/bin" "$SBX"

	if [[ $(id -u) == 0 ]]; then
		chown "$BENCH_USER:" "$BENCH_TMP/work"
	fi
}

# as_user CMD...: CMD as the bench user, in $BENCH_TMP/work, with a fixed
# environment (nothing of the caller's leaks into the numbers).
as_user() {
	local env=(env -i "HOME=$BENCH_HOME" "USER=$BENCH_USER" "LOGNAME=$BENCH_USER"
		"PATH=$BENCH_PATH" "LANG=C.UTF-8")
	if [[ $(id -u) == 0 ]]; then
		(cd "$BENCH_TMP/work" && runuser -u "$BENCH_USER" -- "${env[@]}" "$@")
	else
		(cd "$BENCH_TMP/work" && "${env[@]}" "$@")
	fi
}

# hyperfine_median JSON INDEX: the median, in seconds, of the INDEXth command.
hyperfine_median() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"
}

# hyperfine_cpu JSON INDEX: mean user + system CPU time, in seconds, of the
# INDEXth command (the waited-for process tree; less sensitive than wall time
# to other load on a shared machine, blind to waiting).
hyperfine_cpu() {
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print(r["user"] + r["system"])' "$1" "$2"
}

# spread JSON: for the noise of an inside/outside pair (commands 0 and 1),
# the fastest runs' ratio and the slowest runs'.
spread() {
	python3 - "$1" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
o, i = res[0]["times"], res[1]["times"]
print(f"fastest inside / fastest outside {min(i) / min(o):.2f}, "
      f"slowest inside / slowest outside {max(i) / max(o):.2f}")
EOF
}

# ms SECONDS: milliseconds with one decimal.
ms() {
	python3 -c 'import sys; print(f"{float(sys.argv[1]) * 1000:.1f}")' "$1"
}

# ratio A B: A/B with three decimals.
ratio() {
	python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.3f}")' "$1" "$2"
}

# verdict RATIO TARGET: one line, met or not, and by how much.
verdict() {
	python3 - "$1" "$2" <<'EOF'
import sys
r, t = float(sys.argv[1]), float(sys.argv[2])
if r <= t:
    print(f"**met** ({r:.3f} ≤ {t:.2f})")
else:
    print(f"**not met**: {r:.3f} > {t:.2f}, i.e. {(r / t - 1) * 100:.1f}% above the target")
EOF
}

machine_info() {
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
	echo "- kernel: $(uname -r); $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- date: $BENCH_DATE (start)"
	echo "- sbx: $BENCH_REV; $("$GO" version | cut -d' ' -f3)"
	echo "- tools: $(hyperfine --version), bubblewrap $(bwrap --version 2>/dev/null | awk '{print $2}'), $(unshare --version | sed 's/^unshare from //')"
	echo "- run as: $BENCH_USER (uid $(id -u "$BENCH_USER"))"
}
