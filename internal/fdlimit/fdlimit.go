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

// The parts of the limit, in sixty-fourths. Together they leave a twelfth
// for everything else the parent holds (the run's own descriptors, DNS
// sockets, listeners for --publish). The view's directories take most:
// past its share a directory is reopened from its parent's for each
// request, which slows a walk.
const (
	ViewDirs     = 48 // directories the copy-on-write view keeps open
	ViewListings = 2  // listings it keeps open between two requests
	NetTCP       = 8  // TCP connections, each with a host socket
	NetUDP       = 1  // UDP flows, each with a host socket
)

// Share is a part's bound: part sixty-fourths of the limit, at least
// least, and never more than most (the part's own bound, which a generous
// limit leaves as it is).
func Share(most, part, least int64) int64 {
	return share(Limit(), most, part, least)
}

func share(limit, most, part, least int64) int64 {
	return min(most, max(limit/64*part, least))
}
