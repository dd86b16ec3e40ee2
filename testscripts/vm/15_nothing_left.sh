# Nothing is left behind: the run's cgroup goes at exit, after a timeout,
# and, when sbx itself is killed with SIGKILL, with the next run.
# timeout: 120
. /vm/lib.sh

base=$(dirname "$SBX_VM_CGROUP")
leaves() { ls -d "$base"/sbx-* 2>/dev/null; }
# sleepers counts the processes running "sleep 60".
sleepers() {
	for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' <"$f" 2>/dev/null; echo; done | grep -c '^sleep 60 $'
}
must sbx run --memory 64m -- true
eq "$(leaves)" "" "leaves after a run"
run sbx run --memory 64m --timeout 2s --grace 1s -- sh -c 'trap "" TERM; sleep 60 & sleep 60'
eq "$rc" 124 "the status after --timeout"
eq "$(leaves)" "" "leaves after a timeout"
eq "$(sleepers)" 0 "processes left after the timeout"

sbx run --memory 64m -- sh -c 'sleep 60 & sleep 60' &
pid=$!
i=0
while [ -z "$(leaves)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
leaf=$(leaves)
[ -n "$leaf" ] || fail "no leaf appeared for the run"
i=0
while [ "$(sleepers)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
eq "$(sleepers)" 2 "the run's processes before kill -9"
kill -9 $pid
wait $pid
# The sandbox dies with sbx (its PID 1 has a parent-death signal).
i=0
while grep -q '^populated 1' "$leaf/cgroup.events" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
must cat "$leaf/cgroup.events"
contains "$out" "populated 0" "the killed run's cgroup"
eq "$(sleepers)" 0 "processes left after kill -9 of sbx"
# The next run removes the killed run's leaf, and its own.
must sbx run --memory 64m -- true
eq "$(leaves)" "" "leaves after the next run"
