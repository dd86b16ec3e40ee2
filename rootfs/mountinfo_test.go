package rootfs

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseMountPoints(t *testing.T) {
	in := strings.Join([]string{
		`22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro`,
		`23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw`,
		`36 22 98:0 /mnt1 /mnt/parent\040dir rw,noatime master:1 - ext3 /dev/root rw,errors=continue`,
		`37 22 0:40 / /media/usb\011stick ro,relatime shared:30 - vfat /dev/sdb1 ro`,
		`38 22 0:41 / /srv/back\134slash rw - tmpfs tmpfs rw`,
		`39 22 0:42 / /srv/not\08escape rw - tmpfs tmpfs rw`,
		`short line`,
		``,
		`40 22 0:43 / /srv/trailing\04 rw - tmpfs tmpfs rw`,
	}, "\n") + "\n"
	got, err := ParseMountPoints(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/",
		"/proc",
		"/mnt/parent dir",
		"/media/usb\tstick",
		`/srv/back\slash`,
		`/srv/not\08escape`,
		`/srv/trailing\04`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMountPoints:\n got %q\nwant %q", got, want)
	}
}

func TestParseMountPointsEmpty(t *testing.T) {
	got, err := ParseMountPoints(strings.NewReader(""))
	if err != nil || got != nil {
		t.Errorf("ParseMountPoints(\"\") = %q, %v; want nil, nil", got, err)
	}
}

func TestParseMountPointsSelf(t *testing.T) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI: no /proc/self/mountinfo:", err)
		}
		t.Skip("no /proc/self/mountinfo:", err)
	}
	defer f.Close()
	got, err := ParseMountPoints(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no mount points in /proc/self/mountinfo")
	}
	for _, p := range got {
		if !strings.HasPrefix(p, "/") {
			t.Errorf("mount point %q is not absolute", p)
		}
	}
}
