package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

// Unix sockets, for the scripts that check the host's sockets cannot be
// reached from inside: the host side listens (listen-unix, listen-abstract,
// in the background of a script), the sandbox tries to connect. An abstract
// NAME is given without its leading NUL ("/tmp/.X11-unix/X99").
func init() {
	for _, kind := range []string{"unix", "abstract"} {
		addArgs("connect-"+kind, "ADDR [MSG]", 1, 2, func(a []string) {
			name := "connect-" + kind + " " + a[0]
			c, err := net.DialTimeout("unix", addr(kind, a[0]), 5*time.Second)
			if err != nil {
				say(name, err)
				return
			}
			defer c.Close()
			if len(a) == 2 {
				_, err = c.Write([]byte(a[1]))
			}
			say(name, err)
		})
		// listen-*: ready once listening (READY, a file it creates then,
		// is what a script waits for); then one connection, whose first
		// message it prints, or the timeout (default 10s).
		addArgs("listen-"+kind, "ADDR [TIMEOUT [READY]]", 1, 3, func(a []string) {
			name := "listen-" + kind + " " + a[0]
			timeout := 10 * time.Second
			if len(a) >= 2 {
				d, err := time.ParseDuration(a[1])
				if err != nil {
					usage()
				}
				timeout = d
			}
			l, err := net.Listen("unix", addr(kind, a[0]))
			if err != nil {
				say(name, err)
				return
			}
			defer l.Close()
			fmt.Printf("%s: listening\n", name)
			if len(a) == 3 {
				if err := os.WriteFile(a[2], nil, 0o644); err != nil {
					say(name, err)
					return
				}
			}
			l.(*net.UnixListener).SetDeadline(time.Now().Add(timeout))
			c, err := l.Accept()
			if err != nil {
				fmt.Printf("%s: timeout\n", name)
				return
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			b := make([]byte, 256)
			n, _ := c.Read(b)
			fmt.Printf("%s: accepted %s\n", name, b[:n])
		})
	}
}

func addr(kind, a string) string {
	if kind == "abstract" {
		return "@" + a
	}
	return a
}
