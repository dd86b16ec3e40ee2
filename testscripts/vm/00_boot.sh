# The VM is what the other scripts assume: a pure cgroup v2 hierarchy, this
# shell as uid 1000 in a leaf of the subtree delegated to it.
. /vm/lib.sh
cg=/sys/fs/cgroup
svc=$cg/user.slice/user-1000.slice/user@1000.service

# CGROUP2_SUPER_MAGIC (busybox stat has no name for it)
eq "$(stat -f -c %t $cg)" 63677270 "the file system type at $cg"
eq "$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)" cgroup2 "the mount at $cg"
lacks "$(awk '{ print $3 }' /proc/mounts)" cgroup1 "the mounted file system types"
eq "$(grep -c ' cgroup ' /proc/mounts)" 0 "cgroup v1 mounts"
# Only the unified hierarchy: one line, "0::PATH".
eq "$(wc -l </proc/self/cgroup)" 1 "lines in /proc/self/cgroup"
must cat /proc/self/cgroup
contains "$(mycgroup)" "$svc/app.slice/" "this shell's cgroup"
eq "$(mycgroup)" "$SBX_VM_CGROUP" "this shell's cgroup"

eq "$(id -u)" 1000 "uid"
eq "$(id -g)" 1000 "gid"
eq "$HOME" /home/u HOME
eq "$(owner "$HOME")" 1000:1000 "the owner of $HOME"

for f in "" /cgroup.procs /cgroup.subtree_control /cgroup.threads; do
	eq "$(owner "$svc$f")" 1000:1000 "the owner of user@1000.service$f"
done
# What a delegatee must not own: its share of the parent's resources.
eq "$(owner "$svc/memory.max")" 0:0 "the owner of user@1000.service/memory.max"
for c in cpu cpuset io memory pids; do
	contains "$(cat "$svc/cgroup.controllers")" "$c" "user@1000.service's controllers"
	contains "$(cat "$SBX_VM_CGROUP/cgroup.controllers")" "$c" "the leaf's controllers"
done
eq "$(owner "$SBX_VM_CGROUP")" 1000:1000 "the owner of the leaf"
