# The start-up cost of limits: sbx run -- true with --memory, --pids and
# --cpus (a cgroup made, filled, entered and removed) against the same run
# without, interleaved so that both see the same machine, in one boot.
# The VM is software-emulated: only the ratio means something.
# timeout: 900
. /vm/lib.sh
up() { read -r t _ </proc/uptime && echo "$t"; }
n=30
limits="--memory 256m --pids 512 --cpus 1"
must sbx run -- true # the binary into the page cache
must sbx run $limits -- true
plain=0 limited=0
for i in $(seq $n); do
	t0=$(up)
	sbx run -- true || fail "run $i: sbx run -- true exited $?"
	t1=$(up)
	sbx run $limits -- true || fail "run $i: sbx run $limits -- true exited $?"
	t2=$(up)
	plain=$(awk -v s="$plain" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", s + b - a }')
	limited=$(awk -v s="$limited" -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", s + b - a }')
done
awk -v p="$plain" -v l="$limited" -v n="$n" 'BEGIN {
	printf "sbx run -- true: mean %d ms; with %s: mean %d ms; ratio %.3f over %d runs each\n", p * 1000 / n, "'"$limits"'", l * 1000 / n, l / p, n
}'
