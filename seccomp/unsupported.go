//go:build !linux

package seccomp

import "errors"

var errNotLinux = errors.New("seccomp: only on linux")

// Compile compiles only "unconfined" off Linux.
func Compile(o Options) (*Program, error) {
	if o.Profile == "unconfined" {
		return &Program{Mode: ModeUnconfined}, nil
	}
	return nil, errNotLinux
}

// Install fails off Linux unless there is nothing to install.
func (p *Program) Install() error {
	if p == nil || len(p.Filters) == 0 {
		return nil
	}
	return errNotLinux
}

// Available is false off Linux.
func Available() bool { return false }
