package rootfs

import "testing"

func TestOverlayPath(t *testing.T) {
	for in, want := range map[string]string{
		"/var/tmp/sbx-1000/run-1/upper/0": "/var/tmp/sbx-1000/run-1/upper/0",
		"/a,b:c":                          `/a\,b\:c`,
		`/back\slash`:                     `/back\\slash`,
		"":                                "",
	} {
		if got := overlayPath(in); got != want {
			t.Errorf("overlayPath(%q) = %q, want %q", in, got, want)
		}
	}
}
