package run

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/sbx-sandbox/sbx/report"
	"github.com/sbx-sandbox/sbx/slirp"
	"github.com/sbx-sandbox/sbx/slirp/dnsrelay"
	"github.com/sbx-sandbox/sbx/slirp/policy"
	"github.com/sbx-sandbox/sbx/spec"
	"github.com/sbx-sandbox/sbx/userns"
)

// network is --net slirp: before the child starts, the rules are read,
// the published ports bound and the log made, so that any of them can stop
// the run with its reason; the TAP the child hands back is served by the
// user-space stack until the command has ended.
type network struct {
	cfg     slirp.Config
	logFile *report.File
	served  *slirp.Network
}

func (*network) Name() string { return "network" }

func (p *network) Start(r *Run) error {
	s := r.Spec
	if s.Net != spec.NetSlirp {
		return nil
	}
	// The child opens the device too; asking here first gives the
	// reason before anything starts.
	if err := unix.Access(tunDevice, unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("--net slirp needs %s read-write for you (%v): a root user can run `chmod 0666 %s` (the mode stock distributions ship); or use --net none", tunDevice, err, tunDevice)
	}
	rules, err := policy.ParseRules(s.AllowNet)
	if err != nil {
		return err
	}
	hostAddrs, err := policy.HostAddresses()
	if err != nil {
		return fmt.Errorf("--net slirp: cannot list the host's addresses, which the sandbox must not reach: %w", err)
	}
	p.cfg.Policy = policy.New(policy.Options{Rules: rules, AllowHostLoopback: s.AllowHostLoopback, HostAddrs: hostAddrs})
	if p.cfg.Upstreams, err = upstreams(s.DNSUpstream); err != nil {
		return err
	}
	for _, text := range s.Publish {
		ps, err := slirp.ParsePublish(text)
		if err == nil {
			var pub *slirp.Published
			if pub, err = slirp.Listen(ps); err == nil {
				p.cfg.Publish = append(p.cfg.Publish, pub)
				continue
			}
		}
		p.closePublished()
		return err
	}
	if err := p.openLog(s); err != nil {
		p.closePublished()
		return err
	}
	serveOnOneProcessor()
	return nil
}

// serveOnOneProcessor runs the parent's Go code on one processor (P) for
// a run that serves a network, whatever GOMAXPROCS the caller's
// environment asks of the command. The network is a chain of goroutines
// that wake one another for every frame: the TAP's reader, gVisor's TCP
// processor, the forwarder's goroutine, the relays. On one P each
// hand-off is a switch inside one thread; on two it wakes another thread,
// often an idle vCPU, and gVisor's TCP processor spins on an endpoint
// whose lock a goroutine waiting for the other P holds. System calls
// still run beside it on threads of their own. Measured
// (docs/benchmarks.md, section 5): HTTP one request at a time about
// 1,300 → 1,900 requests/s, bulk TCP up about a third. A run without a
// network keeps every P: the FUSE view's walks were about 5 % slower on
// one.
func serveOnOneProcessor() {
	runtime.GOMAXPROCS(1)
}

// tunDevice is where the child finds the TAP's clone device.
var tunDevice = "/dev/net/tun"

// upstreams are the resolvers DNS questions go to: --dns-upstream, or the
// host's own from /etc/resolv.conf (a 127.0.0.53 stub works: sbx's parent
// is in the host's network namespace).
func upstreams(flag string) ([]netip.AddrPort, error) {
	if flag != "" {
		up, err := dnsrelay.ParseUpstream(flag)
		if err != nil {
			return nil, fmt.Errorf("--dns-upstream: %w", err)
		}
		return []netip.AddrPort{up}, nil
	}
	conf, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("--net slirp: read the host's resolvers: %w", err)
	}
	ups := dnsrelay.Upstreams(conf)
	if len(ups) == 0 {
		// What the C library asks when resolv.conf names none.
		ups = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}
	}
	return ups, nil
}

// openLog makes --net-log's file before the command starts, as --report's.
func (p *network) openLog(s *spec.Spec) error {
	var w *slirp.Log
	if s.NetLog == "" {
		w = slirp.NewLog(nil)
	} else {
		dir, name, err := openParent(s, s.NetLog)
		if err != nil {
			return fmt.Errorf("--net-log %s: %w", s.NetLog, err)
		}
		p.logFile, err = report.CreateIn(dir, name, s.NetLog)
		unix.Close(dir)
		if err != nil {
			return fmt.Errorf("--net-log %w", err)
		}
		stream, err := p.logFile.Stream()
		if err != nil {
			p.logFile.Close()
			return fmt.Errorf("--net-log %w", err)
		}
		w = slirp.NewLog(stream)
	}
	p.cfg.Log = w
	return nil
}

func (*network) Device() userns.MsgType { return userns.MsgTAP }

func (p *network) Serve(r *Run, dev *os.File) error {
	if r.Spec.Net != spec.NetSlirp || p.served != nil {
		dev.Close()
		return errors.New("protocol: an unexpected TAP descriptor")
	}
	n, err := slirp.ServeTAP(dev, p.cfg)
	if err != nil {
		return fmt.Errorf("serve the sandbox's network: %w", err)
	}
	p.served = n
	return nil
}

func (p *network) Stop(r *Run) {
	if p.served != nil {
		p.served.Close()
	}
	p.closePublished()
	if r.ran() {
		if r.Spec.Net == spec.NetSlirp {
			r.Record.Net = p.cfg.Log.Summary()
		} else {
			r.Record.Net = slirp.Summary{Mode: string(r.Spec.Net)}
		}
	}
	if p.logFile != nil {
		p.logFile.Close()
	}
}

func (p *network) closePublished() {
	for _, pub := range p.cfg.Publish {
		pub.Close()
	}
	p.cfg.Publish = nil
}
