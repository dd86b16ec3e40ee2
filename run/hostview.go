package run

import (
	"os"

	"github.com/sbx-sandbox/sbx/hostfs"
	"github.com/sbx-sandbox/sbx/rootfs"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// hostFSConfig is what the FUSE view serves for this run: the plan's rules,
// and owners as the run's id maps make them.
func hostFSConfig(h *rootfs.HostFS, s *spec.Spec, maps userns.Maps) hostfs.Config {
	return hostfs.Config{
		Empty:  h.Empty,
		Absent: h.Absent,
		Owners: hostfs.Owners{
			CallerUID: uint32(os.Getuid()), CallerGID: uint32(os.Getgid()),
			UID: uint32(s.UID), GID: uint32(s.GID),
			UIDs: spans(maps.UID), GIDs: spans(maps.GID),
		},
	}
}

// spans are the ids a map makes exist inside.
func spans(m userns.IDMap) []hostfs.Span {
	out := make([]hostfs.Span, 0, len(m))
	for _, r := range m {
		out = append(out, hostfs.Span{Start: uint32(r.Inside), Count: uint32(r.Count)})
	}
	return out
}

// viewName names the run's view of the host in the report.
func viewName(s *spec.Spec, p *rootfs.Plan) string {
	switch {
	case s.Rootfs == spec.RootfsRO:
		return "read-only"
	case p == nil:
		return ""
	case p.Driver == rootfs.DriverHostFS:
		return "fuse+overlay"
	case p.Driver == rootfs.DriverFuse:
		return "fuse-overlayfs"
	}
	return "overlay"
}
