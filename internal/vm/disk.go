package vm

import "os"

// writeDisk makes the raw image behind the VM's /dev/vda: sparse, it
// reads as zeros, which is all a read-throttling test needs.
func writeDisk(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
