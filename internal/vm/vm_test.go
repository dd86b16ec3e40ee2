package vm_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbx-sandbox/sbx/internal/runtest"
	"github.com/sbx-sandbox/sbx/internal/vm"
)

// TestVM boots the VM suite (testscripts/vm) once: each script is a
// subtest, and the suite fails without its closing line. SBX_VM_RUN, an
// extended regular expression, boots with only the scripts it matches.
func TestVM(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM under software emulation (about a minute)")
	}
	if err := vm.Missing(); err != nil {
		runtest.Gap(t, "the cgroup v2 VM suite cannot boot here: "+err.Error())
	}
	timeout := 8 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-30*time.Second < timeout {
		timeout = time.Until(d) - 30*time.Second
	}
	console := &lineLogger{t: t}
	res, err := vm.Boot(context.Background(), vm.Options{Console: console, Timeout: timeout, Run: os.Getenv("SBX_VM_RUN")})
	console.flush()
	if res == nil {
		t.Fatal(err)
	}
	for _, s := range res.Scripts {
		t.Run(s.Name, func(t *testing.T) {
			switch {
			case !s.Done:
				t.Errorf("did not finish; its output:\n%s", strings.Join(s.Output, "\n"))
			case !s.Passed:
				t.Errorf("%s; its output:\n%s", s.Line, strings.Join(s.Output, "\n"))
			default:
				t.Logf("%s", s.Line)
			}
		})
	}
	t.Logf("boot to the first script %v, qemu's whole run %v", res.BootTime.Round(10*time.Millisecond), res.Wall.Round(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
}

// lineLogger logs the console a line at a time as it comes (go test -v
// shows it live).
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		l.t.Log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(b), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(string(l.buf))
		l.buf = nil
	}
}
