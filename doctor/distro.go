package doctor

import (
	"bufio"
	"os"
	"strings"
)

// osRelease returns ID and ID_LIKE from /etc/os-release, lower case.
func (c *checker) osRelease() []string {
	f, err := os.Open(join(c.h.Etc, "os-release"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && (k == "ID" || k == "ID_LIKE") {
			ids = append(ids, strings.Fields(strings.ToLower(strings.Trim(v, `"'`)))...)
		}
	}
	return ids
}

// packager is one distribution family's install command and package names.
type packager struct {
	ids     []string
	install string
	names   map[string]string // sbx's name for a need → the package that provides it
}

// packagers lists the families whose package names differ; Debian's apt is
// the default because it is what CI runners use.
var packagers = []packager{
	{[]string{"debian", "ubuntu"}, "sudo apt install", nil},
	{[]string{"fedora", "rhel", "centos"}, "sudo dnf install", map[string]string{"uidmap": "shadow-utils"}},
	{[]string{"arch"}, "sudo pacman -S", map[string]string{"uidmap": "shadow"}},
	{[]string{"alpine"}, "sudo apk add", map[string]string{"uidmap": "shadow-uidmap"}},
	{[]string{"suse", "opensuse"}, "sudo zypper install", map[string]string{"uidmap": "shadow"}},
}

// install returns the command that installs pkg (a Debian package name) on
// this host's distribution.
func (c *checker) install(pkg string) string {
	ids := c.osRelease()
	for _, id := range ids {
		for _, p := range packagers {
			for _, pid := range p.ids {
				if id == pid {
					if name, ok := p.names[pkg]; ok {
						pkg = name
					}
					return p.install + " " + pkg
				}
			}
		}
	}
	return packagers[0].install + " " + pkg
}
