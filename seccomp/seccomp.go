// Package seccomp compiles sbx's seccomp filter (Docker's default profile plus
// sbx's own denials, or a profile file) into classic-BPF programs and installs them.
//
// Why github.com/elastic/go-seccomp-bpf: it is maintained, small, pure Go (sbx
// is a static CGO_ENABLED=0 binary, so libseccomp is out), ships syscall tables
// for amd64, arm64, arm and i386, and compiles 64-bit argument conditions.
// gVisor's pkg/seccomp, which would build a binary-search tree, is not served by
// our module proxy. elastic lays rules out linearly, one test of the number
// after another, which makes a number without a rule walk the whole filter;
// we lay the filter out as a binary search over syscall numbers instead
// (assemble.go), so every number reaches its verdict in a few comparisons.
// The kernel's seccomp action cache (Linux 5.11+) emulates the filter for
// every number when it is attached, and answers each number it finds always
// allowed straight from a bitmap, so only argument-dependent and denied
// syscalls ever run the program; the search makes both that emulation (on
// Install, on the start-up path) and those runs short.
//
// We use elastic's syscall tables and, for the blocks with argument
// conditions, its label assembler (Program) and SyscallWithConditions.Assemble,
// but not Policy.Assemble; assemble.go lays out the filter itself, because:
//   - Policy.Assemble loads the syscall number once; after a failed argument
//     check the accumulator holds an argument, and the next syscall's
//     comparison reads that instead (with v1.6.0, socket(AF_VSOCK=40) matches
//     sendfile, nr 40 on amd64, and is allowed). We reload the number after
//     every block that loaded an argument.
//   - Its long-jump fix-up rewrites a partly resolved program; we keep every
//     block short enough that no jump needs it, and check nothing was
//     inserted.
//   - It takes only a bare named default action (ERRNO means EPERM), while a
//     profile can ask for any errno; we emit every return ourselves.
package seccomp

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Mode says which kind of filter a Program holds.
type Mode string

const (
	ModeDefault    Mode = "default"
	ModeUnconfined Mode = "unconfined"
	ModeFile       Mode = "file"
)

// Options say what to compile.
type Options struct {
	Profile           string   // "default" (or ""), "unconfined", or a path to an OCI/Docker profile JSON file (write ./default for a file named "default")
	Caps              []string // the command's capability bounding set, names like "CAP_CHOWN" (Docker's profile gates rules on them)
	AllowNestedUserns bool     // --allow-nested-userns: clone/unshare/setns may create and join namespaces
}

// Instruction is one raw classic-BPF instruction, laid out like the kernel's
// struct sock_filter.
type Instruction struct {
	Op     uint16
	Jt, Jf uint8
	K      uint32
}

// A Filter is one classic-BPF program. The program travels from sbx's parent
// to PID 1 in a JSON message, on the start-up path, so a Filter's JSON form
// is one base64 string of the raw struct sock_filter array, 8 bytes per
// instruction (u16 code, u8 jt, u8 jf, u32 k, little-endian): it encodes and
// decodes in microseconds, where an object per instruction took about a
// millisecond. An empty Filter is "", and decodes as nil (so does null).
//
// It encodes through MarshalText, because encoding/json scans a MarshalJSON
// result once more to compact it, and decodes through UnmarshalJSON, which
// encoding/json reaches on a shorter path than UnmarshalText: the other
// way round, encoding took about 2.5 times as long and decoding a third
// longer (BenchmarkProgramJSON*).
type Filter []Instruction

// insnSize is the size of one encoded instruction (struct sock_filter).
const insnSize = 8

func (f Filter) MarshalText() ([]byte, error) {
	raw := make([]byte, 0, len(f)*insnSize)
	for _, in := range f {
		raw = binary.LittleEndian.AppendUint16(raw, in.Op)
		raw = append(raw, in.Jt, in.Jf)
		raw = binary.LittleEndian.AppendUint32(raw, in.K)
	}
	return base64.StdEncoding.AppendEncode(nil, raw), nil
}

func (f *Filter) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = nil
		return nil
	}
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		return f.UnmarshalText(b[1 : n-1])
	}
	// Escapes (no encoder of ours writes them), or not a string.
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return fmt.Errorf("seccomp filter: %w", err)
	}
	return f.UnmarshalText([]byte(text))
}

func (f *Filter) UnmarshalText(text []byte) error {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(raw, text)
	if err != nil {
		return fmt.Errorf("seccomp filter: %w", err)
	}
	if n%insnSize != 0 {
		return fmt.Errorf("seccomp filter: %d bytes, not a whole number of %d-byte instructions", n, insnSize)
	}
	if n == 0 {
		*f = nil
		return nil
	}
	out := make(Filter, n/insnSize)
	for i := range out {
		r := raw[i*insnSize : (i+1)*insnSize]
		out[i] = Instruction{
			Op: binary.LittleEndian.Uint16(r),
			Jt: r[2],
			Jf: r[3],
			K:  binary.LittleEndian.Uint32(r[4:]),
		}
	}
	*f = out
	return nil
}

// Program is a compiled filter set, ready to install.
type Program struct {
	Mode   Mode
	Source string // the file path for ModeFile, else ""
	// Rules counts the syscalls (distinct syscall numbers of the native table)
	// that the filter decides by a rule of their own, whatever the verdict;
	// every other syscall gets the default action. Names the native table does
	// not have (other ABIs' syscalls) are not counted: they add nothing.
	Rules   int
	Filters []Filter // installed in order; empty for unconfined
}
