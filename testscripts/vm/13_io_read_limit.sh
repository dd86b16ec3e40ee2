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
read_disk --io-read-bps "$SBX_VM_DISK:512k" --report "$PWD/r.json"
limited=$secs
# 4 MiB at 512 KiB/s: about 7 s or more (the first slice's budget may come
# at once); unlimited, much less, even emulated.
awk -v l="$limited" -v f="$free" 'BEGIN { exit !(l >= 6 && l >= f + 2) }' ||
	fail "4 MiB at --io-read-bps 512k took ${limited}s, unlimited ${free}s"
j=$(tr -d ' \n' <r.json)
set -- $(stat -L -c '%t %T' "$SBX_VM_DISK")
dev=$(printf '%d:%d' "0x$1" "0x$2")
contains "$j" "\"io_read_bps\":[{\"device\":\"$dev\",\"bytes_per_sec\":524288}]" "the report's requested limits"
read=$(echo "$j" | grep -o "\"device\":\"$dev\",\"read_bytes\":[0-9]*" | cut -d: -f4)
[ -n "$read" ] && [ "$read" -ge 4194304 ] || fail "the report's io read_bytes for $dev: '$read', want at least 4 MiB"
