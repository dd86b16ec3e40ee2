package doctor

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// The protections sbx puts on the command: a seccomp filter (which needs
// no_new_privs to be installed without privilege), and what Landlock this
// kernel offers. sbx refuses to run a command it cannot filter, so a
// kernel without seccomp filters fails here.

// statusField reads one "Name:\tvalue" line of /proc/self/status.
func (c *checker) statusField(name string) (string, bool) {
	f, err := os.Open(join(c.h.ProcSelf, "status"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func (c *checker) seccomp() Check {
	ck := Check{Name: "seccomp", Status: OK}
	if _, ok := c.statusField("Seccomp"); !ok {
		ck.Status = Fail
		ck.Detail = "this kernel has no seccomp (no Seccomp line in /proc/self/status); sbx will not run a command without its system call filter"
		ck.Fix = "a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER (every mainstream distribution's is)"
		return ck
	}
	ran, err := c.probe("seccomp")
	switch {
	case ran && err != nil:
		ck.Status = Fail
		ck.Detail = "installing a seccomp filter failed: " + oneLine(err.Error()) + "; sbx will not run a command without its system call filter"
		ck.Fix = "a kernel built with CONFIG_SECCOMP_FILTER; or, at your own risk, sbx run --seccomp unconfined"
	case ran:
		ck.Detail = "filters install; each run gets Docker's default profile and sbx's denials (--seccomp)"
	default:
		ck.Detail = "seccomp present (not probed)"
	}
	return ck
}

func (c *checker) noNewPrivs() Check {
	ck := Check{Name: "no-new-privs", Status: OK}
	if _, ok := c.statusField("NoNewPrivs"); ok {
		ck.Detail = "available: setuid and file-capability programs gain nothing inside"
		return ck
	}
	// The status line came with Linux 4.10; the prctl itself with 3.5,
	// which sbx's other needs are far above.
	ck.Detail = "available (no NoNewPrivs line in /proc/self/status: a kernel older than 4.10)"
	return ck
}

func (c *checker) landlock() Check {
	ck := Check{Name: "landlock", Status: OK}
	abi := c.h.LandlockABI()
	if abi <= 0 {
		ck.Detail = "not offered by this kernel (sbx does not need it)"
		return ck
	}
	ck.Detail = fmt.Sprintf("ABI %d offered (sbx does not use it yet)", abi)
	return ck
}
