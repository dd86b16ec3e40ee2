package spec

import (
	"strings"
	"testing"
)

func TestBuildHomeMode(t *testing.T) {
	homes := []string{"/home/u", "/home/u/alt", "relative", "/", ""}
	for _, tc := range []struct {
		home, workdir string
		want          HomeMode
		err           string // part of the error, "" for none
	}{
		{"", "/home/u/proj", HomeCOW, ""},
		{"cow", "/home/u", HomeCOW, ""}, // only an emptied home is checked
		{"empty", "/home/u/proj", HomeEmpty, ""},
		{"empty", "/srv/build", HomeEmpty, ""},
		{"empty", "/home/u/alt/x", HomeEmpty, ""},
		{"empty", "/home/u", "", "holds the home directory /home/u"},
		{"empty", "/home", "", "holds the home directory /home/u"},
		{"empty", "/home/u/alt", "", "holds the home directory /home/u/alt"},
		{"none", "/home/u/proj", "", `--home "none": expected cow or empty`},
		{"Empty", "/home/u/proj", "", `--home "Empty"`},
	} {
		s, err := Build(Options{Command: []string{"true"}, Home: tc.home, Workdir: tc.workdir, Homes: homes}, testCaller)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("--home %q --workdir %s: err = %v, want one containing %q", tc.home, tc.workdir, err, tc.err)
			}
		case err != nil:
			t.Errorf("--home %q --workdir %s: %v", tc.home, tc.workdir, err)
		case s.Home != tc.want:
			t.Errorf("--home %q: Home = %q, want %q", tc.home, s.Home, tc.want)
		}
	}
}

// A home that is / or relative is not emptied, so it cannot conflict with
// the workdir.
func TestBuildHomeEmptyIgnoresRootAndRelativeHomes(t *testing.T) {
	o := Options{Command: []string{"true"}, Home: "empty", Workdir: "/srv", Homes: []string{"/", "srv", "//"}}
	if _, err := Build(o, testCaller); err != nil {
		t.Fatal(err)
	}
}
