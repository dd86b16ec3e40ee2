# sbx runs in the VM, as uid 1000, with the VM's root as the host's.
. /vm/lib.sh

must sbx version
must sbx run -- true
must sbx run -- id -u
eq "$out" 0 "uid inside"
must sbx run --report "$PWD/r.json" -- true
[ -s r.json ] || fail "no report"
must cat r.json
contains "$(tr -d ' \n' <r.json)" '"exit_code":0' "the report"
run sbx run -- sh -c 'exit 3'
eq "$rc" 3 "the exit status of sbx run -- sh -c 'exit 3'"
