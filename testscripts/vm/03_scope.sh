# cgroup: scope
# A delegated scope whose parent is root's: uid 1000 owns it and can move
# its processes into a child of it (what sbx must do to set limits there:
# no process may stay in a cgroup that enables controllers for children).
. /vm/lib.sh

eq "$(mycgroup)" "$SBX_VM_CGROUP" "this shell's cgroup"
contains "$(mycgroup)" /sys/fs/cgroup/user.slice/user-1000.slice/test- "this shell's cgroup"
eq "$(owner "$SBX_VM_CGROUP")" 1000:1000 "the owner of the scope"
eq "$(owner "$SBX_VM_CGROUP/..")" 0:0 "the owner of its parent"
must mkdir "$SBX_VM_CGROUP/shell"
must sh -c "echo $$ >$SBX_VM_CGROUP/shell/cgroup.procs"
eq "$(mycgroup)" "$SBX_VM_CGROUP/shell" "this shell's cgroup after the move"
must sh -c "echo +memory +pids >$SBX_VM_CGROUP/cgroup.subtree_control"
must mkdir "$SBX_VM_CGROUP/limited"
eq "$(owner "$SBX_VM_CGROUP/limited/memory.max")" 1000:1000 "the owner of a child's memory.max"
must sh -c "echo 64M >$SBX_VM_CGROUP/limited/memory.max"
must rmdir "$SBX_VM_CGROUP/limited"
