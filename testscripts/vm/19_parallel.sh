# cgroup: scope
# Six runs started at once from one shell, in a delegated scope that still
# holds its processes: each moves what it finds into init and enables the
# controllers, none fails for the others, and none leaves a cgroup.
# timeout: 150
. /vm/lib.sh

for i in 1 2 3 4 5 6; do
	sbx run --memory 64m --pids 64 -- cat /sys/fs/cgroup/pids.max >out.$i 2>&1 &
done
wait
for i in 1 2 3 4 5 6; do
	must cat out.$i
	eq "$out" 64 "run $i's pids.max"
done
eq "$(ls -d "$SBX_VM_CGROUP"/sbx-* 2>/dev/null)" "" "leaves after the runs"
eq "$(mycgroup)" "$SBX_VM_CGROUP/init" "this shell's cgroup after the runs"
