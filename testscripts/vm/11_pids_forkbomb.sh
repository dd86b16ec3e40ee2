# --pids: a fork bomb is held at the limit while a heartbeat outside the
# sandbox keeps going.
# timeout: 180
. /vm/lib.sh

(while :; do echo beat >>beats; sleep 0.2; done) &
heartbeat=$!
start=$(cut -d' ' -f1 /proc/uptime)
run sbx run --pids 48 --report "$PWD/r.json" -- probe forkbomb 6
end=$(cut -d' ' -f1 /proc/uptime)
kill $heartbeat
eq "$rc" 0 "the status of the fork bomb"
refused=$(echo "$out" | sed -n 's/^forkbomb: [0-9]* started, \([0-9]*\) refused$/\1/p')
[ -n "$refused" ] && [ "$refused" -gt 0 ] || fail "the fork bomb was never refused a process"
j=$(tr -d ' \n' <r.json)
contains "$j" '"--pids":"pids.max"' "the report's enforced limits"
peak=$(echo "$j" | grep -o '"pids_peak":[0-9]*' | head -n 1 | cut -d: -f2)
[ -n "$peak" ] && [ "$peak" -le 48 ] && [ "$peak" -ge 40 ] || fail "pids_peak '$peak', want the limit, 48, reached and not passed"
# The heartbeat beat at least once a second (it beats every 0.2 s).
beats=$(wc -l <beats)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%d", b - a }')
echo "heartbeat: $beats beats in ${secs}s"
[ "$beats" -ge "$secs" ] || fail "the heartbeat outside stalled: $beats beats in ${secs}s"
# Outside, processes still start.
must sh -c 'for i in 1 2 3 4 5 6 7 8; do true & done; wait'
