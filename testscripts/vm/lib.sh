# Assertions for the VM scripts; source it first: . /vm/lib.sh
#
# A failed assertion prints "not ok: WHAT" and exits 1: the script FAILs
# there. Nothing sets -e, so a script can run a command that fails and
# look at its status.
#
#   run CMD...                 run CMD: its stdout and stderr in $out, its
#                              status in $rc, both shown in the log
#   must CMD...                run, and fail unless the status is 0
#   must_fail CMD...           run, and fail if the status is 0
#   fail WHAT...               fail now
#   eq GOT WANT [WHAT]         fail unless GOT is WANT
#   contains TEXT PART [WHAT]  fail unless TEXT contains PART
#   lacks TEXT PART [WHAT]     fail if TEXT contains PART
#   owner PATH                 print PATH's uid:gid
#   mycgroup                   print this shell's cgroup directory

fail() {
	echo "not ok: $*"
	exit 1
}

run() {
	echo "\$ $*"
	out=$("$@" 2>&1)
	rc=$?
	[ -z "$out" ] || printf '%s\n' "$out"
	[ $rc = 0 ] || echo "[exit $rc]"
}

must() {
	run "$@"
	[ $rc = 0 ] || fail "$* exited $rc"
}

must_fail() {
	run "$@"
	[ $rc != 0 ] || fail "$* succeeded"
}

eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"
}

contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "${3:-text} does not contain '$2': '$1'" ;;
	esac
}

lacks() {
	case $1 in
	*"$2"*) fail "${3:-text} contains '$2': '$1'" ;;
	esac
}

owner() {
	stat -c %u:%g "$1"
}

mycgroup() {
	echo "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)"
}
