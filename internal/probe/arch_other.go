//go:build !amd64

package main

import "errors"

// The x32 and i386 tables exist only on amd64.
var errUnsupported = errors.New("unsupported")

func x32Getpid() error  { return errUnsupported }
func i386Getpid() error { return errUnsupported }
