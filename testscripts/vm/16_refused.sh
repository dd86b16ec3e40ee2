# cgroup: not-delegated
# A shell in a cgroup that is not delegated: a limit is exit 125 with the
# reason and the fix; best-effort runs and says what it did not enforce.
. /vm/lib.sh

run sbx run --memory 64m -- echo the-command-ran
eq "$rc" 125 "the status of --memory without delegation"
lacks "$out" the-command-ran "the command's output"
contains "$out" "--memory cannot be enforced here: cgroup " "sbx's message"
contains "$out" "is not delegated to you" "sbx's message"
contains "$out" "Fix: systemd-run --user --scope -p Delegate=yes sbx run" "sbx's message"
run sbx run --limits best-effort --memory 64m --pids 100 --report "$PWD/r.json" -- echo the-command-ran
eq "$rc" 0 "the status with --limits best-effort"
contains "$out" the-command-ran "the command's output"
contains "$out" "sbx: --limits best-effort: not enforced: --memory (" "sbx's message"
j=$(tr -d ' \n' <r.json)
contains "$j" '"cgroup":null' "the report"
contains "$j" '"--pids":"RLIMIT_NPROC"' "the report's enforced limits"
contains "$j" '"not_enforced":{"--memory":' "the report"
run sbx doctor
contains "$out" "cgroup-delegation" "sbx doctor"
contains "$out" "not writable by uid 1000" "sbx doctor"
contains "$out" "Delegate=cpu cpuset io memory pids" "sbx doctor's fix"
