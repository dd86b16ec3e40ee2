// Package seccomp compiles sbx's seccomp filter (Docker's default profile plus
// sbx's own denials, or a profile file) into classic-BPF programs and installs them.
//
// Why github.com/elastic/go-seccomp-bpf: it is maintained, small, pure Go (sbx
// is a static CGO_ENABLED=0 binary, so libseccomp is out), ships syscall tables
// for amd64, arm64, arm and i386, and compiles 64-bit argument conditions.
// gVisor's pkg/seccomp, which would build a binary-search tree, is not served by
// our module proxy. elastic lays rules out linearly, but since Linux 5.11 the
// kernel's seccomp action cache answers every syscall whose verdict is ALLOW
// without looking at arguments straight from a bitmap computed at attach time,
// so only argument-dependent and denied syscalls ever run the program; the
// hottest syscalls still come first, for older kernels.
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
// struct sock_filter (JSON-serializable: the program travels from sbx's parent
// to PID 1 in a JSON message).
type Instruction struct {
	Op     uint16
	Jt, Jf uint8
	K      uint32
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
	Filters [][]Instruction // installed in order; empty for unconfined
}
