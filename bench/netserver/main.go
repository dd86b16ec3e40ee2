// Command netserver is the far end of bench/net.sh: a small HTTP server and a
// TCP echo server on the host's loopback, and a client that holds many idle
// TCP connections open from inside a sandbox.
//
//	netserver serve [-http 127.0.0.1:0] [-echo 127.0.0.1:0] [-body N] [-addrs FILE]
//	netserver hold -addr HOST:PORT [-n 200] [-for 5s]
//
// serve answers every HTTP request with the same N-byte body (default 100,
// text/plain, with Content-Length; keep-alive only if the client asks for it)
// and echoes whatever arrives on the echo port. Both listen on loopback
// addresses only: any other address is refused. Once both listen, it writes
// their addresses ("http ADDR" and "echo ADDR", one a line) to FILE, so that
// port 0 can pick free ports; it runs until killed.
//
// hold dials N connections to ADDR (an echo server), sends one byte on each
// and waits for it to come back, so every connection is known to reach the
// server end to end; it prints "held N" and keeps them open, idle, for the
// given time, then closes them and exits. Any failure exits 1.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "hold":
		hold(os.Args[2:])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: netserver serve [-http ADDR] [-echo ADDR] [-body N] [-addrs FILE]\n       netserver hold -addr HOST:PORT [-n N] [-for DURATION]")
	os.Exit(2)
}

// listenLoopback listens on addr, which must name a loopback IP.
func listenLoopback(addr string) net.Listener {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		log.Fatalf("netserver: %s: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("netserver: %s: only loopback addresses are served", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("netserver: %v", err)
	}
	return l
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	httpAddr := fs.String("http", "127.0.0.1:0", "HTTP listen address (loopback only)")
	echoAddr := fs.String("echo", "127.0.0.1:0", "TCP echo listen address (loopback only)")
	size := fs.Int("body", 100, "bytes in the HTTP response body")
	addrs := fs.String("addrs", "", "file to write the listen addresses to")
	fs.Parse(args)

	hl := listenLoopback(*httpAddr)
	el := listenLoopback(*echoAddr)

	body := bytes.Repeat([]byte("x"), *size)
	if *size > 0 {
		body[len(body)-1] = '\n'
	}
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", length)
		w.Write(body)
	})
	srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second}
	go func() { log.Fatal(srv.Serve(hl)) }()
	go func() {
		for {
			c, err := el.Accept()
			if err != nil {
				log.Fatalf("netserver: %v", err)
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()

	if *addrs != "" {
		text := fmt.Sprintf("http %s\necho %s\n", hl.Addr(), el.Addr())
		tmp := *addrs + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *addrs); err != nil {
			log.Fatal(err)
		}
	}
	select {}
}

func hold(args []string) {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	addr := fs.String("addr", "", "echo server to connect to, HOST:PORT")
	n := fs.Int("n", 200, "connections to hold")
	d := fs.Duration("for", 5*time.Second, "how long to hold them")
	fs.Parse(args)
	if *addr == "" {
		usage()
	}

	conns := make([]net.Conn, 0, *n)
	buf := make([]byte, 1)
	for i := 0; i < *n; i++ {
		c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "netserver: connection %d: %v\n", i+1, err)
			os.Exit(1)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte{'.'}); err == nil {
			_, err = io.ReadFull(c, buf)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "netserver: connection %d: no echo: %v\n", i+1, err)
			os.Exit(1)
		}
		c.SetDeadline(time.Time{})
		conns = append(conns, c)
	}
	fmt.Printf("held %d\n", len(conns))
	time.Sleep(*d)
	for _, c := range conns {
		c.Close()
	}
}
