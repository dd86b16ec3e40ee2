// Package fdlimit shares out the descriptors sbx's parent may hold open.
//
// The parent serves the copy-on-write view (a descriptor for each host
// directory it keeps, and for each listing in progress) and the network (a
// host socket for each connection) from one process, under one
// RLIMIT_NOFILE. A fixed count that fits a generous limit (Debian's
// systemd gives 524,288) runs out under a small one (4,096 and less exist):
// the view then answers the command EMFILE, a mapped file's page faults
// become SIGBUS, and the run's own clean-up cannot open what it removes.
// So each part takes a share of the limit the process has.
package fdlimit

import "golang.org/x/sys/unix"

// Limit is the number of descriptors this process may have open: the soft
// RLIMIT_NOFILE, which the Go runtime raises to the hard one at start.
func Limit() int64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1 << 30
	}
	return int64(rl.Cur)
}

// Share is a part's bound: the part 1/div of the limit, at least least,
// and never more than most (the part's own bound, which a generous limit
// leaves as it is).
func Share(most, div, least int64) int64 {
	return share(Limit(), most, div, least)
}

func share(limit, most, div, least int64) int64 {
	return min(most, max(limit/div, least))
}
