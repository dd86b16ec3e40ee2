// Package vm boots sbx's cgroup v2 suite (testscripts/vm) in a qemu VM with a delegated cgroup subtree and reads its results.
package vm
