// Package threads makes a Go program need no new OS thread from some
// point on: in a cgroup whose pids.max is full, a Go program that has to
// start a thread dies ("fatal error: newosproc").
package threads

import (
	"runtime"
	"sync"
)

// Hold leaves the program one P, so that a new goroutine never starts a
// thread to run on another, and spare idle threads in the runtime's pool
// for system calls that block.
func Hold(spare int) {
	runtime.GOMAXPROCS(1)
	var locked, release sync.WaitGroup
	locked.Add(spare)
	release.Add(1)
	for i := 0; i < spare; i++ {
		go func() {
			// A locked goroutine keeps its thread to itself while it waits,
			// so each of these takes a thread of its own...
			runtime.LockOSThread()
			locked.Done()
			release.Wait()
			// ...which goes back to the idle pool, unlocked, when it ends
			// (a goroutine that ends locked takes its thread with it).
			runtime.UnlockOSThread()
		}()
	}
	locked.Wait()
	release.Done()
}
