package run

import (
	"os"
	"os/user"
	"strconv"

	"github.com/sbx-sandbox/sbx/doctor"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// ids chooses the run's id maps: who the command is inside, and which host
// ids its files get.
type ids struct{}

func (*ids) Name() string { return "ids" }

func (*ids) Start(r *Run) error {
	r.Maps = chooseIDMaps(r.Spec)
	return nil
}

func (*ids) Stop(*Run) {}

// chooseIDMaps maps the id inside to the caller and, with --map-users auto
// when newuidmap/newgidmap and a subordinate range exist, the other ids
// inside to that range. Without them it is a single mapping, not an error.
func chooseIDMaps(s *spec.Spec) userns.Maps {
	uid, gid := os.Getuid(), os.Getgid()
	m := userns.Maps{
		UID: userns.PlanIDMap(s.UID, uid, nil),
		GID: userns.PlanIDMap(s.GID, gid, nil),
	}
	if s.MapUsers != spec.MapAuto {
		return m
	}
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	if helper, err := lookSystemPath("newuidmap"); err == nil {
		if sub, ok := subRange("/etc/subuid", name, uid); ok {
			m.UID, m.NewUIDMap = userns.PlanIDMap(s.UID, uid, sub), helper
		}
	}
	if helper, err := lookSystemPath("newgidmap"); err == nil {
		if sub, ok := subRange("/etc/subgid", name, uid); ok {
			m.GID, m.NewGIDMap = userns.PlanIDMap(s.GID, gid, sub), helper
		}
	}
	return m
}

func subRange(file, name string, uid int) (*userns.SubRange, bool) {
	f, err := os.Open(file)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	start, count, ok := doctor.ParseSubIDs(f, name, uid)
	if !ok || count <= 0 {
		return nil, false
	}
	return &userns.SubRange{Start: start, Count: count}, true
}
