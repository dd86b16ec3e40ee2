package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/sbx-sandbox/sbx/doctor"
)

// run prints the checks; the status is 1 when any check fails.
func (d *doctorCmd) run() int {
	checks := doctor.Run(doctor.DefaultHost())
	if d.JSON {
		if err := doctor.WriteJSON(os.Stdout, checks); err != nil {
			fmt.Fprintln(os.Stderr, "sbx:", err)
			return 125
		}
	} else {
		doctor.WriteText(os.Stdout, checks)
	}
	if doctor.Failed(checks) {
		return 1
	}
	return 0
}

func versionString() string {
	v := version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("%s (%s, %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
