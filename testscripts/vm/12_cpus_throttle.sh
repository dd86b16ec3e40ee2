# --cpus 0.25: a spinning program gets a quarter of a CPU, visible in
# cpu.stat's throttling and in the report.
# timeout: 150
. /vm/lib.sh

loops() { echo "$out" | sed -n 's/^spin: \([0-9]*\) loops.*/\1/p'; }
must sbx run -- probe spin 2
free=$(loops)
t0=$(cut -d' ' -f1 /proc/uptime)
run sbx run --cpus 0.25 --report "$PWD/r.json" -- probe spin 4
t1=$(cut -d' ' -f1 /proc/uptime)
eq "$rc" 0 "the status of probe spin under --cpus"
limited=$(loops)
j=$(tr -d ' \n' <r.json)
contains "$j" '"cpus":0.25' "the report's requested limits"
contains "$j" '"--cpus":"cpu.max"' "the report's enforced limits"
num() { echo "$j" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }
throttled=$(num cpu_throttled_periods) periods=$(num cpu_periods) usage=$(num cpu_usage_ms)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "periods $periods, throttled $throttled, usage ${usage}ms in ${wall}ms; loops per second $((limited / 4)) limited, $((free / 2)) free"
[ -n "$throttled" ] && [ "$throttled" -gt 10 ] || fail "cpu_throttled_periods '$throttled', want many"
# A quarter of a CPU for as long as the cgroup lived (set-up included,
# which is throttled too). Emulation stretches time unevenly, so the
# bounds leave room; unthrottled, the spin alone takes all of a CPU.
[ -n "$usage" ] && [ "$usage" -le $((wall * 35 / 100)) ] || fail "cpu_usage_ms '$usage' in ${wall}ms at 0.25 CPU"
# The unlimited spin is measured at another moment, and a loaded host
# slows the emulated CPU unevenly: a quarter of its rate unloaded (0.17
# seen), but only "clearly slower" holds under load (0.55 seen in CI).
[ $((limited / 4)) -le $((free / 2 * 3 / 4)) ] || fail "the spin did $((limited / 4)) loops a second at 0.25 CPU, $((free / 2)) unlimited"
# Inside, the limit is what the sandbox's own cgroup says.
must sbx run --cpus 0.25 -- cat /sys/fs/cgroup/cpu.max
eq "$out" "25000 100000" "cpu.max inside"
