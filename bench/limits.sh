#!/usr/bin/env bash
# Usage: bench/limits.sh
#
# What limits cost at start-up: `sbx run -- true` with --memory, --pids and
# --cpus (a cgroup made, filled, entered, measured and removed) against the
# same run without, interleaved, in one boot of the VM suite's machine
# (internal/vm: Debian's kernel under qemu, pure cgroup v2, a subtree
# delegated to uid 1000, which runs both). This host's cgroups are a v1/v2
# hybrid, where no limit can be had. The VM is software-emulated: its times
# are several times the host's, and only the ratio means something.
#
# Needs what TestVM needs (.ci/run installs it): qemu-system-x86,
# busybox-static, xz-utils, Debian's kernel in /var/cache/sbx-vm (or
# SBX_VM_KERNEL and SBX_VM_MODULES).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 0 ] || { echo "usage: bench/limits.sh (30 interleaved rounds: testscripts/vm/bench/limits.sh)" >&2; exit 2; }
export PATH="/usr/local/go/bin:$PATH"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go run ./internal/vm/cmd/sbx-vm -suite bench -run '^limits$' -timeout 15m >"$log" 2>&1 || {
  tail -40 "$log"
  exit 1
}
line=$(sed -n 's/^ *| \(sbx run -- true: mean.*ratio.*\)$/\1/p' "$log")
echo "### Limits at start-up ($(date -u '+%Y-%m-%d %H:%M UTC'), sbx $(git rev-parse --short HEAD), in the VM)"
echo
echo "$line"
