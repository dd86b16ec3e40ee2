package cgdelegate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	systemd "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// scopeTimeout bounds the wait for the user manager: a run must not hang
// on a bus that does not answer.
const scopeTimeout = 5 * time.Second

// ErrNoUserManager says there is no session bus to reach a systemd user
// manager on.
var ErrNoUserManager = errors.New("no systemd user manager reachable (neither $DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR/bus)")

// UserBus says whether a session bus is there to be dialled, without
// godbus's fallback of launching one (dbus-launch, X11).
func UserBus() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return false
	}
	var st unix.Stat_t
	return unix.Stat(filepath.Join(dir, "bus"), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// EnterScope asks the caller's systemd user manager for a transient scope
// with Delegate=yes holding this process, as `systemd-run --user --scope
// -p Delegate=yes` does, and waits until this process is in it. The scope
// goes away when its processes have: systemd stops an empty scope.
func EnterScope() (string, error) {
	if !UserBus() {
		return "", ErrNoUserManager
	}
	ctx, cancel := context.WithTimeout(context.Background(), scopeTimeout)
	defer cancel()
	conn, err := systemd.NewUserConnectionContext(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot reach the systemd user manager: %w", err)
	}
	defer conn.Close()
	var rnd [4]byte
	if _, err := unix.Getrandom(rnd[:], 0); err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s%d-%x.scope", leafPrefix, os.Getpid(), rnd)
	props := []systemd.Property{
		systemd.PropDescription("sbx run"),
		systemd.PropPids(uint32(os.Getpid())),
		{Name: "Delegate", Value: godbus.MakeVariant(true)},
		// A scope that failed is not kept around for inspection.
		{Name: "CollectMode", Value: godbus.MakeVariant("inactive-or-failed")},
	}
	done := make(chan string, 1)
	if _, err := conn.StartTransientUnitContext(ctx, name, "fail", props, done); err != nil {
		return "", fmt.Errorf("the systemd user manager refused a delegated scope: %w", err)
	}
	select {
	case result := <-done:
		if result != "done" {
			return "", fmt.Errorf("the systemd user manager's scope %s: %s", name, result)
		}
	case <-ctx.Done():
		return "", fmt.Errorf("the systemd user manager did not start scope %s within %s", name, scopeTimeout)
	}
	return name, nil
}
