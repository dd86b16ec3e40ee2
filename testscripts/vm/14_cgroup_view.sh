# Inside, /sys/fs/cgroup is the sandbox's own cgroup, read-only, with its
# limits; /proc/self/cgroup calls it "/".
. /vm/lib.sh

must sbx run --memory 48m --pids 100 -- sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; grep " /sys/fs/cgroup " /proc/self/mountinfo; ls /sys/fs/cgroup | grep -c "^sbx-"; echo 1 >/sys/fs/cgroup/memory.max && echo WROTE; true'
contains "$out" "0::/
50331648
100" "the sandbox's cgroup and its limits"
contains "$out" " ro," "the mount of /sys/fs/cgroup"
contains "$out" "Read-only file system" "a write to memory.max inside"
lacks "$out" WROTE "a write to memory.max inside"
# Without limits the sandbox has no cgroup of its own: /sys/fs/cgroup is
# the host's, through the read-only /sys.
must sbx run -- cat /proc/self/cgroup
lacks "$out" "0::/
" "the cgroup of a run without limits"
