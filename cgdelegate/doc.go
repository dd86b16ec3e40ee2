// Package cgdelegate finds a cgroup v2 subtree delegated to the caller and
// runs the sandbox in a leaf of its own with the requested limits; it reads
// the accounting back.
//
// Every function takes the cgroup directory, an absolute path under the
// cgroup2 mount, and touches only the interface files in it, so that tests
// can lay out a tree of plain files the way the kernel shows it.
//
// Errors of the flag parsers (ParseSize, ParseCPUs, ParseCPUList,
// ParseIOLimit, ParseMemorySwap, ParsePids) are *ValueError: their text
// starts with the value, quoted, and says what is expected, e.g.
//
//	"64Q": a size is a number with an optional unit k, m, g or t (powers of 1024), e.g. 512m
//
// so that the caller prefixes the flag's name: fmt.Errorf("--memory %w", err).
//
// Readers of accounting never invent a number: a file or a field that this
// kernel does not have (memory.peak before Linux 5.19, pids.peak before
// 6.1, cpu.stat's throttling fields without the cpu controller) is nil.
package cgdelegate
