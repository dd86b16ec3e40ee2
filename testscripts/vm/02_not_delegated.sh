# cgroup: not-delegated
# A shell in a cgroup that is not delegated: uid 1000 can change nothing
# in it. (The check that sbx then refuses a limit goes here.)
. /vm/lib.sh

contains "$(mycgroup)" /sys/fs/cgroup/system.slice/ "this shell's cgroup"
eq "$(mycgroup)" "$SBX_VM_CGROUP" "this shell's cgroup"
eq "$(owner "$SBX_VM_CGROUP")" 0:0 "the owner of the cgroup"
for f in cgroup.procs cgroup.subtree_control; do
	[ -w "$SBX_VM_CGROUP/$f" ] && fail "$f is writable by uid $(id -u)"
done
must_fail mkdir "$SBX_VM_CGROUP/child"
must_fail sh -c "echo \$\$ >/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/cgroup.procs"
