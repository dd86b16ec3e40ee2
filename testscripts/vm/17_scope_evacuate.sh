# cgroup: scope
# A delegated scope whose parent is not: sbx moves the scope's processes
# (itself and this shell) into its child "init", enables the controllers
# and runs in a leaf of the scope; later runs go beside init.
. /vm/lib.sh

must sbx run --memory 64m --pids 50 --report "$PWD/r.json" -- cat /sys/fs/cgroup/pids.max
eq "$out" 50 "pids.max inside"
j=$(tr -d ' \n' <r.json)
scope=${SBX_VM_CGROUP#/sys/fs/cgroup}
contains "$j" "\"cgroup\":\"$scope/sbx-" "the report's cgroup"
eq "$(mycgroup)" "$SBX_VM_CGROUP/init" "this shell's cgroup after the run"
contains "$(cat "$SBX_VM_CGROUP/cgroup.subtree_control")" memory "the scope's subtree_control"
must sbx run --memory 64m -- true
eq "$(ls -d "$SBX_VM_CGROUP"/sbx-* 2>/dev/null)" "" "leaves after the runs"
