package cgdelegate

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbx-sandbox/sbx/internal/runtest"
)

func TestEnterScopeWithoutBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if _, err := EnterScope(); !errors.Is(err, ErrNoUserManager) {
		t.Fatalf("EnterScope = %v, want ErrNoUserManager (and no bus launched)", err)
	}
}

// A real session bus with no systemd user manager on it (no systemd here,
// nor in the VM suite): the request reaches the bus and comes back
// refused, and the error says so. A systemd user manager that grants the
// scope is not available to any test here.
func TestEnterScopeBusWithoutManager(t *testing.T) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		runtest.Gap(t, "no dbus-daemon (Debian: dbus-daemon; .ci/run installs it)")
		return
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "session.conf")
	sock := filepath.Join(dir, "bus")
	os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=`+sock+`</listen>
<auth>EXTERNAL</auth><policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`), 0o644)
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(addr))
	_, err = EnterScope()
	if err == nil || errors.Is(err, ErrNoUserManager) || !strings.Contains(err.Error(), "systemd") {
		t.Fatalf("EnterScope = %v, want the bus's refusal naming systemd", err)
	}
	t.Log(err)
}
