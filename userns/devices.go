package userns

// A device is a descriptor the child opens inside its namespaces and hands
// back with a message of its own type; the parent, outside every namespace,
// serves it (Sandbox.Serve).
type device struct {
	what string // how errors name it: "an unexpected FUSE descriptor"
	file string // the name of the *os.File its server gets
}

// devices are the messages that carry one.
var devices = map[MsgType]device{
	MsgHostFS: {what: "FUSE", file: "/dev/fuse"},
	MsgTAP:    {what: "TAP", file: "/dev/net/tun"},
}
