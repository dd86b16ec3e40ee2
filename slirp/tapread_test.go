package slirp

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/sbx-sandbox/sbx/slirp/tap"
)

// A datagram socket pair stands for the TAP: each write is one frame.
func framePair(t *testing.T) (tapEnd, sandboxEnd int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		// Room for a few frames of the TAP's largest size.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

type delivered struct {
	proto   tcpip.NetworkProtocolNumber
	payload []byte
}

type recordingDispatcher struct {
	mu   sync.Mutex
	got  []delivered
	more chan struct{}
}

func newRecordingDispatcher() *recordingDispatcher {
	return &recordingDispatcher{more: make(chan struct{}, 1024)}
}

func (d *recordingDispatcher) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	d.mu.Lock()
	d.got = append(d.got, delivered{proto, pkt.Data().AsRange().ToSlice()})
	d.mu.Unlock()
	d.more <- struct{}{}
}

func (d *recordingDispatcher) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

func (d *recordingDispatcher) wait(t *testing.T, n int) []delivered {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		d.mu.Lock()
		got := append([]delivered(nil), d.got...)
		d.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-d.more:
		case <-deadline:
			t.Fatalf("%d frames delivered, want %d", len(got), n)
		}
	}
}

func ethernetFrame(dst tcpip.LinkAddress, proto tcpip.NetworkProtocolNumber, payload []byte) []byte {
	f := make([]byte, header.EthernetMinimumSize+len(payload))
	header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: "\x52\x55\x0a\x00\x02\x64", DstAddr: dst, Type: proto})
	copy(f[header.EthernetMinimumSize:], payload)
	return f
}

func newTestLink(t *testing.T, fd int) *polledLink {
	t.Helper()
	l, err := newPolledLink(channel.New(1, tap.MTU, ""), fd, tcpip.LinkAddress(gatewayMAC))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

func TestPolledLinkDeliversFramesForItself(t *testing.T) {
	tapEnd, sandboxEnd := framePair(t)
	l := newTestLink(t, tapEnd)
	d := newRecordingDispatcher()
	l.Attach(d)
	if !l.IsAttached() {
		t.Fatal("not attached after Attach")
	}

	small := bytes.Repeat([]byte{0x45}, 100)
	// Larger than the first buffer: it spans both.
	large := make([]byte, tap.MTU)
	for i := range large {
		large[i] = byte(i * 7)
	}
	arp := bytes.Repeat([]byte{1}, 28)
	frames := [][]byte{
		ethernetFrame(tcpip.LinkAddress(gatewayMAC), header.IPv4ProtocolNumber, small),
		ethernetFrame("\x52\x55\x0a\x00\x02\x99", header.IPv4ProtocolNumber, small), // another host's: dropped
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},                                             // shorter than an Ethernet header: dropped
		ethernetFrame(header.EthernetBroadcastAddress, header.ARPProtocolNumber, arp),
		ethernetFrame(tcpip.LinkAddress(gatewayMAC), header.IPv4ProtocolNumber, large),
	}
	for _, f := range frames {
		if _, err := unix.Write(sandboxEnd, f); err != nil {
			t.Fatal(err)
		}
	}
	got := d.wait(t, 3)
	want := []delivered{
		{header.IPv4ProtocolNumber, small},
		{header.ARPProtocolNumber, arp},
		{header.IPv4ProtocolNumber, large},
	}
	if len(got) != len(want) {
		t.Fatalf("%d frames delivered, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].proto != want[i].proto || !bytes.Equal(got[i].payload, want[i].payload) {
			t.Errorf("frame %d: protocol %d, %d bytes; want protocol %d, %d bytes", i, got[i].proto, len(got[i].payload), want[i].proto, len(want[i].payload))
		}
	}
}

// The reader waits for frames in the poller, not in a blocking system
// call: a goroutine in a system call keeps its P, and what a frame made
// runnable would wait for the runtime to take it back.
func TestPolledLinkWaitsInThePoller(t *testing.T) {
	tapEnd, _ := framePair(t)
	l := newTestLink(t, tapEnd)
	l.Attach(newRecordingDispatcher())
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		all := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(all, "\n\n") {
			if !strings.Contains(g, "(*polledLink).read") {
				continue
			}
			if strings.Contains(g, "[IO wait") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reader does not wait in the poller:\n%s", g)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no reader goroutine")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Attach(nil), as the NIC's removal calls it, stops the reader while it
// waits and while frames keep coming; nothing is delivered after it.
func TestPolledLinkStops(t *testing.T) {
	tapEnd, sandboxEnd := framePair(t)
	l := newTestLink(t, tapEnd)
	d := newRecordingDispatcher()
	l.Attach(d)
	stopReader(t, l, "a waiting reader")
	if l.IsAttached() {
		t.Fatal("attached after Attach(nil)")
	}
	unix.Write(sandboxEnd, ethernetFrame(tcpip.LinkAddress(gatewayMAC), header.IPv4ProtocolNumber, []byte{0x45}))
	time.Sleep(50 * time.Millisecond)
	d.mu.Lock()
	n := len(d.got)
	d.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d frames delivered after the reader stopped", n)
	}
}

func TestPolledLinkStopsWhileFramesArrive(t *testing.T) {
	tapEnd, sandboxEnd := framePair(t)
	l := newTestLink(t, tapEnd)
	d := newRecordingDispatcher()
	l.Attach(d)
	done := make(chan struct{})
	defer close(done)
	go func() {
		f := ethernetFrame(tcpip.LinkAddress(gatewayMAC), header.IPv4ProtocolNumber, bytes.Repeat([]byte{0x45}, 1000))
		for {
			select {
			case <-done:
				return
			default:
			}
			unix.Write(sandboxEnd, f)
		}
	}()
	// Drain what is delivered, so the recorder never blocks the reader.
	go func() {
		for {
			select {
			case <-done:
				return
			case <-d.more:
			}
		}
	}()
	d.wait(t, 1)
	stopReader(t, l, "a busy reader")
}

// stopReader detaches l as the NIC's removal does, and fails the test if
// the reader is not stopped within 10 s.
func stopReader(t *testing.T, l *polledLink, what string) {
	t.Helper()
	stopped := make(chan struct{})
	go func() { l.Attach(nil); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatalf("Attach(nil) did not stop %s", what)
	}
}
