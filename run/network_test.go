package run

import (
	"runtime"
	"strings"
	"testing"

	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/spec"
)

// Without a usable /dev/net/tun, --net slirp stops before anything
// starts, with the fix; it never runs without the network it asked for.
func TestNetworkWithoutTun(t *testing.T) {
	saved := tunDevice
	tunDevice = t.TempDir() + "/tun"
	defer func() { tunDevice = saved }()
	p := &network{}
	err := p.Start(&Run{Spec: &spec.Spec{Net: spec.NetSlirp}})
	if err == nil || !strings.Contains(err.Error(), "chmod 0666 "+tunDevice) || !strings.Contains(err.Error(), "--net none") {
		t.Fatalf("err = %v, want the reason and the fix", err)
	}
}

// The network's values are checked when the run starts, each error
// naming the value; published ports taken before a later error are let go.
func TestNetworkBadValues(t *testing.T) {
	if err := (&network{}).Start(&Run{Spec: &spec.Spec{Net: spec.NetSlirp}}); err != nil {
		runtest.Gap(t, "no --net slirp here (CI makes /dev/net/tun 0666): "+err.Error())
	}
	for _, tt := range []struct {
		s    spec.Spec
		want string
	}{
		{spec.Spec{AllowNet: []string{"10.0.0.0/33"}}, `--allow-net "10.0.0.0/33"`},
		{spec.Spec{DNSUpstream: "resolver"}, "resolver"},
		{spec.Spec{Publish: []string{"127.0.0.1:0:80", "bad"}}, `--publish "127.0.0.1:0:80"`},
	} {
		tt.s.Net = spec.NetSlirp
		p := &network{}
		err := p.Start(&Run{Spec: &tt.s})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.s, err, tt.want)
		}
		if len(p.cfg.Publish) != 0 {
			t.Errorf("%+v: %d ports still held after the error", tt.s, len(p.cfg.Publish))
		}
	}
}

// A run that serves a network serves it on one P, even where the caller's
// environment asks for more (see serveOnOneProcessor); one without keeps
// its Ps.
func TestNetworkServesOnOneProcessor(t *testing.T) {
	t.Setenv("GOMAXPROCS", "4")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	if err := (&network{}).Start(&Run{Spec: &spec.Spec{Net: spec.NetNone}}); err != nil {
		t.Fatal(err)
	}
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("--net none: %d Ps, want the 2 it had", n)
	}
	p := &network{}
	if err := p.Start(&Run{Spec: &spec.Spec{Net: spec.NetSlirp}}); err != nil {
		runtest.Gap(t, "no --net slirp here (CI makes /dev/net/tun 0666): "+err.Error())
		return
	}
	defer p.closePublished()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("--net slirp: %d Ps, want 1", n)
	}
}
