# --memory: a hog is killed at the limit (exit 137, cause oom, one line on
# stderr naming the limit and the peak) while sbx survives and reports.
# timeout: 180
. /vm/lib.sh

run sbx run --memory 32m --report "$PWD/r.json" -- probe hog 256
eq "$rc" 137 "the status of a hog over --memory"
contains "$out" "sbx: out of memory: the kernel killed 1 process(es) at the --memory limit of 32.0 MiB (peak " "sbx's line"
lacks "$out" "hog: done" "the hog's output"
j=$(tr -d ' \n' <r.json)
contains "$j" '"exit_code":137' "the report"
contains "$j" '"cause":"oom"' "the report"
contains "$j" '"oom_kills":1' "the report"
contains "$j" '"--memory":"memory.max"' "the report's enforced limits"
contains "$j" '"memory_swap_max":"0"' "the report: swap is off"
# The cgroup's peak, a real total, and never above the limit (by more than
# the page or so the kernel charges before it reclaims).
peak=$(echo "$j" | grep -o '"memory_peak_bytes":[0-9]*' | head -n 1 | cut -d: -f2)
[ -n "$peak" ] || fail "no memory_peak_bytes in the report"
[ "$peak" -gt $((16 << 20)) ] && [ "$peak" -le $((33 << 20)) ] || fail "memory_peak_bytes $peak, want 16 MiB to 32 MiB and a page"

# Under the limit the same program completes.
must sbx run --memory 128m -- probe hog 48
contains "$out" "hog: done" "the hog's output under the limit"
lacks "$out" "out of memory" "sbx's stderr under the limit"
