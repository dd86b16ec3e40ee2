# A command allowed to mount (--cap-add SYS_ADMIN --allow-nested-userns)
# cannot remount its /sys/fs/cgroup read-write (sbx's own mounts are not
# the command's to change), but in namespaces of its own (user, mount,
# cgroup) it can mount the hierarchy below its cgroup and make cgroups
# there: it stays under the run's limits (they hold on the cgroup above,
# which it cannot see), and at exit sbx removes what it made with the
# run's cgroup.
. /vm/lib.sh

base=$(dirname "$SBX_VM_CGROUP")
must sbx run --memory 64m --cap-add SYS_ADMIN --allow-nested-userns -- sh -c '
	mount -o remount,rw /sys/fs/cgroup 2>/dev/null && echo remounted
	mkdir /tmp/cg
	probe cgroupns sh -c "mount -t cgroup2 none /tmp/cg && mkdir -p /tmp/cg/a/b && echo made"'
lacks "$out" remounted "a remount of /sys/fs/cgroup"
contains "$out" made "the command's cgroups"
eq "$(ls -d "$base"/sbx-* 2>/dev/null)" "" "leaves after the run"
