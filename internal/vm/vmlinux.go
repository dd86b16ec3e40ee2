package vm

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// directBoot returns an uncompressed copy of the kernel (vmlinux) that
// qemu can start directly at its PVH entry point, written into dir. Under
// software emulation the compressed kernel's own decompressor takes most
// of the boot (about 6 of 11 seconds here); xz on the host takes one.
// Debian compresses its kernel with xz. The caller falls back to the
// compressed image on an error.
func directBoot(ctx context.Context, image, dir string) (string, error) {
	data, err := os.ReadFile(image)
	if err != nil {
		return "", err
	}
	if bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return image, hasPVHNote(data) // already a vmlinux
	}
	magic := []byte("\xfd7zXZ\x00")
	for off, tries := 0, 0; tries < 4; tries++ {
		i := bytes.Index(data[off:], magic)
		if i < 0 {
			break
		}
		off += i
		cmd := exec.CommandContext(ctx, "xz", "-dc", "--single-stream")
		cmd.Stdin = bytes.NewReader(data[off:])
		out, err := cmd.Output()
		off += len(magic)
		if err != nil {
			if errors.Is(err, exec.ErrNotFound) {
				return "", fmt.Errorf("no xz to decompress the kernel with (apt-get install xz-utils, as .ci/run does)")
			}
			continue
		}
		if err := hasPVHNote(out); err != nil {
			return "", err
		}
		path := dir + "/vmlinux"
		return path, os.WriteFile(path, out, 0o644)
	}
	return "", fmt.Errorf("%s: no xz-compressed kernel inside", image)
}

// hasPVHNote checks for the ELF note that gives the PVH entry point
// (XEN_ELFNOTE_PHYS32_ENTRY, 18, in a "Xen" note): without it qemu cannot
// boot the uncompressed kernel.
func hasPVHNote(vmlinux []byte) error {
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return fmt.Errorf("the decompressed kernel: %w", err)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(p.Open())
		if err != nil {
			return err
		}
		for len(notes) >= 12 {
			namesz := binary.LittleEndian.Uint32(notes[0:])
			descsz := binary.LittleEndian.Uint32(notes[4:])
			typ := binary.LittleEndian.Uint32(notes[8:])
			name := notes[12:min(len(notes), 12+int(namesz))]
			if typ == 18 && bytes.Equal(bytes.TrimRight(name, "\x00"), []byte("Xen")) {
				return nil
			}
			next := 12 + align4(int(namesz)) + align4(int(descsz))
			if next > len(notes) {
				break
			}
			notes = notes[next:]
		}
	}
	return fmt.Errorf("the kernel has no PVH entry point (CONFIG_PVH)")
}

func align4(n int) int { return (n + 3) &^ 3 }
