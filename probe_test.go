package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// probeEnv names a prebuilt probe (internal/probe) for a test binary that
// cannot build one: the unprivileged rerun has no Go build cache.
const probeEnv = "SBX_PROBE"

var probeOnce struct {
	sync.Once
	path string
	err  error
}

// setupProbe gives a script $PROBE, the probe program that tries what a
// hostile step would try (testscripts/attack_*.txtar). It is built once per
// run of the test binary. Scripts bind it into the sandbox, for example
// --ro-bind $PROBE:/usr/local/bin/probe.
func setupProbe(env *testscript.Env) error {
	p, err := probeBinary()
	if err != nil {
		return err
	}
	env.Setenv("PROBE", p)
	return nil
}

// probeBinary is $SBX_PROBE or, without it, a probe built now into the
// user's cache directory (replaced there each run, so nothing piles up).
func probeBinary() (string, error) {
	probeOnce.Do(func() {
		if p := os.Getenv(probeEnv); p != "" {
			if _, err := os.Stat(p); err != nil {
				probeOnce.err = fmt.Errorf("%s: %w", probeEnv, err)
			}
			probeOnce.path = p
			return
		}
		probeOnce.path, probeOnce.err = buildProbe()
	})
	return probeOnce.path, probeOnce.err
}

func buildProbe() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "sbx-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Built beside its final name and renamed over it: another test binary
	// may be running the previous one.
	tmp, err := os.CreateTemp(dir, "probe-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-o", tmp.Name(), "./internal/probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the probe (or set %s to a prebuilt one): %v\n%s", probeEnv, err, out)
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "probe")
	return p, os.Rename(tmp.Name(), p)
}
