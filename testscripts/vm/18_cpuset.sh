# --cpuset: the command runs only on the CPUs named; a CPU the host does
# not give the cgroup is refused before the command starts.
. /vm/lib.sh

must sbx run --cpuset 1 --report "$PWD/r.json" -- sh -c 'grep Cpus_allowed_list /proc/self/status; cat /sys/fs/cgroup/cpuset.cpus.effective'
contains "$out" "Cpus_allowed_list:	1
1" "the CPUs inside"
contains "$(tr -d ' \n' <r.json)" '"--cpuset":"cpuset.cpus"' "the report's enforced limits"
run sbx run --cpuset 7 -- echo the-command-ran
eq "$rc" 125 "the status of --cpuset with a CPU the VM lacks"
lacks "$out" the-command-ran "the command's output"
contains "$out" "--cpuset cannot be enforced here" "sbx's message"
