package slirp

import (
	"context"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/sbx-sandbox/sbx/slirp/policy"
)

// The network closes while frames still arrive: a sandbox that sends as
// its run ends must not leave sbx waiting for ever. A socket pair stands
// for the TAP (fdbased reads both alike); the frames are ARP requests for
// the gateway and UDP datagrams, which take the IPv4 path.
func TestCloseWhileFramesArrive(t *testing.T) {
	for round := 0; round < 20; round++ {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		n, err := ServeTAP(os.NewFile(uintptr(pair[0]), "tap"), Config{Policy: policy.New(policy.Options{})})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			for {
				select {
				case <-stop:
					return
				default:
				}
				unix.Write(pair[1], arpRequest)
				unix.Write(pair[1], udpFrame)
			}
		}()
		time.Sleep(20 * time.Millisecond)
		closed := make(chan struct{})
		go func() { n.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the network did not close within 10 s while frames arrived", round)
		}
		close(stop)
		<-sent
		unix.Close(pair[1])
	}
}

// arpRequest asks who has 10.0.2.2, from the sandbox's address.
var arpRequest = []byte{
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x64, 0x08, 0x06, // Ethernet
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // ARP, request
	0x02, 0x00, 0x00, 0x00, 0x00, 0x64, 10, 0, 2, 100, // sender
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 2, 2, // target
}

// udpFrame is a UDP datagram from the sandbox to 203.0.113.9:9, addressed
// to the gateway's Ethernet address.
var udpFrame = func() []byte {
	frame := make([]byte, header.EthernetMinimumSize+header.IPv4MinimumSize+header.UDPMinimumSize+4)
	header.Ethernet(frame).Encode(&header.EthernetFields{
		SrcAddr: "\x02\x00\x00\x00\x00\x64", DstAddr: gatewayMAC, Type: header.IPv4ProtocolNumber,
	})
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(frame) - header.EthernetMinimumSize), TTL: 64, Protocol: uint8(header.UDPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 2, 100}), DstAddr: tcpip.AddrFrom4([4]byte{203, 0, 113, 9}),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	udp := header.UDP(ip[header.IPv4MinimumSize:])
	udp.Encode(&header.UDPFields{SrcPort: 40000, DstPort: 9, Length: uint16(header.UDPMinimumSize + 4)})
	return frame
}()

// Close waits for what it stopped to log itself: a connection whose host
// dial was still on its way when the run ended is in the summary read
// right after Close (the report's), not lost to a goroutine that had not
// run yet.
func TestCloseWaitsForConnectionsToLog(t *testing.T) {
	dialing := make(chan struct{})
	slowDial := func(ctx context.Context, network, address string) (net.Conn, error) {
		close(dialing)
		<-ctx.Done()
		// A dial that takes a while to notice, as a host call may.
		time.Sleep(200 * time.Millisecond)
		return nil, ctx.Err()
	}
	tn := newTestNet(t, policy.Options{}, Config{Dial: slowDial})
	go tn.dialTCP("203.0.113.7:80")
	select {
	case <-dialing:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection was never dialled")
	}
	tn.net.Close()
	if s := tn.log.Summary(); s.ConnectionsAllowed != 1 {
		t.Fatalf("summary after Close: %+v, want the one connection", s)
	}
}

// What the sandbox sent just before its run ended is still carried: Close
// lets the frames already in the TAP be read and handled first. On one P,
// as sbx's parent serves a network, nothing else runs between the last
// frame and Close; a reply written by a command as it exited was lost
// (net_slirp_publish, once in a few runs).
func TestCloseCarriesWhatWasSentBeforeIt(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for round := 0; round < 5; round++ {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		d := &recordingDialer{route: map[string]string{}}
		n, err := ServeTAP(os.NewFile(uintptr(pair[0]), "tap"), Config{Policy: policy.New(policy.Options{}), Dial: d.dial})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := unix.Write(pair[1], udpFrame); err != nil {
			t.Fatal(err)
		}
		n.Close()
		unix.Close(pair[1])
		if got := d.dials(); len(got) != 1 || got[0] != "udp 203.0.113.9:9" {
			t.Fatalf("round %d: dialled %q, want the datagram's udp 203.0.113.9:9", round, got)
		}
	}
}
