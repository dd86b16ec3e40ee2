# --io-read-bps: direct reads from the virtio disk go at the rate asked,
# and io.stat's bytes reach the report.
# timeout: 120
. /vm/lib.sh

read_disk() {
	t0=$(cut -d' ' -f1 /proc/uptime)
	run sbx run --bind "$SBX_VM_DISK" "$@" -- dd if="$SBX_VM_DISK" of=/dev/null bs=64k count=64 iflag=direct
	t1=$(cut -d' ' -f1 /proc/uptime)
	eq "$rc" 0 "dd's status"
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	echo "4 MiB read in ${secs}s"
}
read_disk
free=$secs
read_disk --io-read-bps "$SBX_VM_DISK:1m" --report "$PWD/r.json"
limited=$secs
# 4 MiB at 1 MiB/s: about 3 s or more (the first second's budget may come
# at once); unlimited, a fraction of that.
awk -v l="$limited" -v f="$free" 'BEGIN { exit !(l >= 2.5 && l >= f + 1.5) }' ||
	fail "4 MiB at --io-read-bps 1m took ${limited}s, unlimited ${free}s"
j=$(tr -d ' \n' <r.json)
set -- $(stat -L -c '%t %T' "$SBX_VM_DISK")
dev=$(printf '%d:%d' "0x$1" "0x$2")
contains "$j" "\"io_read_bps\":[{\"device\":\"$dev\",\"bytes_per_sec\":1048576}]" "the report's requested limits"
read=$(echo "$j" | grep -o "\"device\":\"$dev\",\"read_bytes\":[0-9]*" | cut -d: -f4)
[ -n "$read" ] && [ "$read" -ge 4194304 ] || fail "the report's io read_bytes for $dev: '$read', want at least 4 MiB"
