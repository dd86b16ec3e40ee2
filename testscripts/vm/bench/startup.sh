# How long sbx run -- true takes in the VM (software-emulated: compare
# runs with each other, not with the host), each of 10 runs and the mean,
# from /proc/uptime (10 ms steps).
# timeout: 600
. /vm/lib.sh
up() { read -r t _ </proc/uptime && echo "$t"; }
n=10
total=0
must sbx run -- true # the first run reads the binary from the page cache
for i in $(seq $n); do
	t0=$(up)
	sbx run -- true || fail "run $i: sbx run -- true exited $?"
	t1=$(up)
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
	echo "run $i: ${ms} ms"
	total=$((total + ms))
done
echo "sbx run -- true: mean $((total / n)) ms over $n runs"
