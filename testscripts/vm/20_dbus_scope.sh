# cgroup: session
# A shell whose cgroup is not delegated, nor its parent, in a login with
# a systemd user manager (the host's systemd --user, and its session bus,
# which /init starts): sbx asks it over D-Bus for a transient scope with
# Delegate=yes holding its own process, as `systemd-run --user --scope -p
# Delegate=yes` does, and runs in a leaf of that scope. The shell stays
# where it is. Without a bus to ask, the limits are refused as anywhere
# else.
# timeout: 180
. /vm/lib.sh
svc=/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service
app=$svc/app.slice
export PATH=/bin:/usr/bin
scopes() { ls -d "$app"/sbx-*.scope 2>/dev/null; }

# The place: not delegated, the parent not either; the manager is up.
eq "$(mycgroup)" "$SBX_VM_CGROUP" "this shell's cgroup"
eq "$(owner "$SBX_VM_CGROUP")" 0:0 "the owner of the shell's cgroup"
eq "$(owner "$SBX_VM_CGROUP/cgroup.procs")" 0:0 "the owner of its cgroup.procs"
eq "$(owner "$SBX_VM_CGROUP/..")" 0:0 "the owner of its parent"
eq "$(owner "$app")" 1000:1000 "the owner of app.slice"
eq "$XDG_RUNTIME_DIR" /run/user/1000 XDG_RUNTIME_DIR
must busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
	GetConnectionUnixProcessID s org.freedesktop.systemd1
manager=${out#u }
eq "$(cat /proc/$manager/comm)" systemd "the owner of org.freedesktop.systemd1"
eq "$(owner /proc/$manager)" 1000:1000 "the owner of org.freedesktop.systemd1"
eq "$(sed -n 's/^0:://p' /proc/$manager/cgroup)" "${svc#/sys/fs/cgroup}/init.scope" "systemd --user's cgroup"
eq "$(scopes)" "" "sbx's scopes before the runs"

must sbx run --memory 64m --pids 64 --report "$PWD/r.json" -- cat /sys/fs/cgroup/pids.max
eq "$out" 64 "pids.max inside"
j=$(tr -d ' \n' <r.json)
contains "$j" "\"cgroup\":\"${app#/sys/fs/cgroup}/sbx-" "the report's cgroup"
cgroup=$(echo "$j" | sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p')
scope=${cgroup%/*}
echo "the run's cgroup: $cgroup"
echo "$scope" | grep -qE "^${app#/sys/fs/cgroup}/sbx-[0-9]+-[0-9a-f]+\.scope\$" ||
	fail "the run's scope is not app.slice/sbx-PID-HEX.scope: $scope"
eq "$(mycgroup)" "$SBX_VM_CGROUP" "this shell's cgroup after the run"

# During a run: systemd has the scope, Delegate=yes, its cgroup uid 1000's.
sbx run --memory 64m -- sleep 5 &
pid=$!
# (Waiting for the run's leaf in the scope: sbx is in the scope then.)
i=0
while ! ls -d "$app"/sbx-*.scope/sbx-* >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dir=$(scopes)
[ -n "$dir" ] || fail "no scope appeared for the run"
unit=${dir##*/}
contains "$unit" "sbx-$pid-" "the scope's name"
# sbx's process: in the scope's init (sbx enabled the controllers for the
# scope's children), beside the run's leaf.
eq "$(sed -n 's/^0:://p' /proc/$pid/cgroup)" "${dir#/sys/fs/cgroup}/init" "sbx's cgroup during the run"
eq "$(owner "$dir")" 1000:1000 "the owner of the scope's cgroup"
must systemctl --user show -p Delegate -p ActiveState -p Slice -p ControlGroup "$unit"
contains "$out" "Delegate=yes" "the scope's properties"
contains "$out" "ActiveState=active" "the scope's properties"
contains "$out" "Slice=app.slice" "the scope's properties"
contains "$out" "ControlGroup=${dir#/sys/fs/cgroup}" "the scope's properties"
must busctl --user call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
	org.freedesktop.systemd1.Manager GetUnitByPID u $pid
contains "$out" "/org/freedesktop/systemd1/unit/sbx" "the unit of sbx's process"
wait $pid
eq "$?" 0 "the status of the run"
# After it, systemd stops the empty scope and removes its cgroup.
i=0
while [ -d "$dir" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -d "$dir" ] && fail "the scope's cgroup is still there 5s after the run: $dir"
run systemctl --user show -p ActiveState -p LoadState "$unit"
contains "$out" "ActiveState=inactive" "the scope after the run"
eq "$(scopes)" "" "sbx's scopes after the runs"
eq "$(mycgroup)" "$SBX_VM_CGROUP" "this shell's cgroup after the runs"

# No bus to ask: refused, naming the cgroup and the fix.
run env -u XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/nowhere \
	sbx run --memory 64m --pids 64 -- echo the-command-ran
eq "$rc" 125 "the status without a bus"
lacks "$out" the-command-ran "the command's output"
contains "$out" "cannot be enforced here: cgroup ${SBX_VM_CGROUP#/sys/fs/cgroup} is not delegated to you" "sbx's message"
contains "$out" "Fix: systemd-run --user --scope -p Delegate=yes sbx run" "sbx's message"
eq "$(scopes)" "" "sbx's scopes after the refusal"
