# --cpus 0.25: a spinning program gets a quarter of a CPU, visible in
# cpu.stat's throttling and in the report.
# timeout: 120
. /vm/lib.sh

t0=$(cut -d' ' -f1 /proc/uptime)
run sbx run --cpus 0.25 --report "$PWD/r.json" -- probe spin 4
t1=$(cut -d' ' -f1 /proc/uptime)
eq "$rc" 0 "the status of probe spin under --cpus"
j=$(tr -d ' \n' <r.json)
contains "$j" '"cpus":0.25' "the report's requested limits"
contains "$j" '"--cpus":"cpu.max"' "the report's enforced limits"
num() { echo "$j" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }
throttled=$(num cpu_throttled_periods) periods=$(num cpu_periods) usage=$(num cpu_usage_ms)
echo "periods $periods, throttled $throttled, usage ${usage}ms"
[ -n "$throttled" ] && [ "$throttled" -gt 10 ] || fail "cpu_throttled_periods '$throttled', want many"
# A quarter of a CPU for as long as the cgroup lived (the run, set-up
# included, which is throttled too), never the 4 s of CPU time the spin
# takes unthrottled.
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "the run took ${wall}ms"
[ -n "$usage" ] && [ "$usage" -le $((wall * 30 / 100)) ] && [ "$usage" -lt 3000 ] ||
	fail "cpu_usage_ms '$usage' in ${wall}ms at 0.25 CPU"
# Inside, the limit is what the sandbox's own cgroup says.
must sbx run --cpus 0.25 -- cat /sys/fs/cgroup/cpu.max
eq "$out" "25000 100000" "cpu.max inside"
