package gitprotect

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseCases maps a config file to the entries git reads from it, as
// `key=value` (`key` alone for a bare name); nil with wantErr for files
// Parse refuses.
var parseCases = []struct {
	name    string
	in      string
	want    []string
	wantErr bool
}{
	{name: "simple", in: "[core]\n\tbare = false\n", want: []string{"core.bare=false"}},
	{name: "case", in: "[Core]\n\tFsMonitor = X\n", want: []string{"core.fsmonitor=X"}},
	{name: "subsection", in: "[remote \"Origin\"]\nurl = u\n", want: []string{"remote.Origin.url=u"}},
	{name: "subsection escapes", in: "[a \"x\\\"y\\\\z\"]\nk = v\n", want: []string{"a.x\"y\\z.k=v"}},
	{name: "deprecated", in: "[Branch.Main]\nk = v\n", want: []string{"branch.main.k=v"}},
	{name: "deprecated dotted", in: "[filter.a.b]\nclean = c\n", want: []string{"filter.a.b.clean=c"}},
	{name: "key after header", in: "[core] fsmonitor = evil\n", want: []string{"core.fsmonitor=evil"}},
	{name: "header no space", in: "[core]fsmonitor=evil", want: []string{"core.fsmonitor=evil"}},
	{name: "two headers", in: "[a][core] pager = p\n", want: []string{"core.pager=p"}},
	{name: "bare", in: "[core]\nbare\n", want: []string{"core.bare"}},
	{name: "bare at eof", in: "[core]\nbare", want: []string{"core.bare"}},
	{name: "empty value", in: "[core]\nk =\n", want: []string{"core.k="}},
	{name: "quotes", in: "[a]\nk = \" x \" y \n", want: []string{"a.k= x  y"}},
	{name: "inner space", in: "[a]\nk = x   y\t\n", want: []string{"a.k=x   y"}},
	{name: "comment", in: "# c\n; c\n[a] # c\nk = v # c\nl = \"v # not\" ; c\n", want: []string{"a.k=v", "a.l=v # not"}},
	{name: "escapes", in: "[a]\nk = x\\ty\\nz\\\\\\\"\n", want: []string{"a.k=x\ty\nz\\\""}},
	{name: "continuation", in: "[a]\nk = one \\\n  two\nl = 3\n", want: []string{"a.k=one   two", "a.l=3"}},
	{name: "continuation in quotes", in: "[a]\nk = \"one\\\ntwo\"\n", want: []string{"a.k=onetwo"}},
	{name: "comment ends continuation", in: "[a]\nk = v # \\\nl = w\n", want: []string{"a.k=v", "a.l=w"}},
	{name: "crlf", in: "[a]\r\nk = v\r\nl\r\n", want: []string{"a.k=v", "a.l"}},
	{name: "bom", in: "\xef\xbb\xbf[a]\nk = v\n", want: []string{"a.k=v"}},
	{name: "dash key", in: "[a-b]\nk-1 = v\n", want: []string{"a-b.k-1=v"}},
	{name: "indented header", in: "  [a]\n  k=v\n", want: []string{"a.k=v"}},
	{name: "empty file", in: "", want: nil},

	{name: "unterminated quote", in: "[a]\nk = \"v\n", wantErr: true},
	{name: "unknown escape", in: "[a]\nk = \\q\n", wantErr: true},
	{name: "entry before section", in: "k = v\n", wantErr: true},
	{name: "comment after bare", in: "[a]\nk # c\n", wantErr: true},
	{name: "digit key", in: "[a]\n1k = v\n", wantErr: true},
	{name: "bad key char", in: "[a]\nk.x = v\n", wantErr: true},
	{name: "unterminated header", in: "[a\nk = v\n", wantErr: true},
	{name: "space in header", in: "[core ]\nk = v\n", wantErr: true},
	{name: "dotted plus subsection", in: "[include.path \"x\"]\nk = v\n", wantErr: true},
	{name: "empty subsection", in: "[filter \"\"]\nclean = x\n", wantErr: true},
	{name: "subsection newline", in: "[a \"x\ny\"]\nk = v\n", wantErr: true},
	{name: "subsection odd escape", in: "[a \"\\x\"]\nk = v\n", wantErr: true},
	{name: "junk after subsection", in: "[a \"x\" ]\nk = v\n", wantErr: true},
	{name: "empty header", in: "[]\nk = v\n", wantErr: true},
	{name: "deprecated empty part", in: "[a..b]\nk = v\n", wantErr: true},
	{name: "nul", in: "[a]\nk = v\x00w\n", wantErr: true},
	{name: "lone cr", in: "[a]\nk = v\rw\n", wantErr: true},
	{name: "backslash at eof", in: "[a]\nk = v\\", wantErr: true},
}

func flatten(entries []Entry) []string {
	var out []string
	for _, e := range entries {
		if e.Bare {
			out = append(out, e.Key())
		} else {
			out = append(out, e.Key()+"="+e.Value)
		}
	}
	return out
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := Parse([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Parse = %q, want an error", flatten(entries))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := flatten(entries); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestParseAgreesWithGit checks each accepted case against git's own
// reading of it, when git is installed.
func TestParseAgreesWithGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		gap(t, "git is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	for i, tc := range parseCases {
		if tc.wantErr {
			continue
		}
		file := filepath.Join(dir, "c"+strings.Repeat("x", i))
		if err := os.WriteFile(file, []byte(tc.in), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(gitBin, "config", "--file", file, "--list", "--null")
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("%s: git config: %v", tc.name, err)
			continue
		}
		var got []string
		for _, rec := range strings.Split(string(out), "\x00") {
			if rec == "" {
				continue
			}
			k, v, ok := strings.Cut(rec, "\n")
			if ok {
				got = append(got, k+"="+v)
			} else {
				got = append(got, k)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: git reads %q, the table says %q", tc.name, got, tc.want)
		}
	}
}

func TestParseSpans(t *testing.T) {
	in := "[core]\n\tbare = false\n[core] pager = less\nk = a \\\n b\n"
	entries, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"\tbare = false\n", "pager = less\n", "k = a \\\n b\n"}
	var got []string
	for _, e := range entries {
		got = append(got, in[e.Start:e.End])
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans = %q, want %q", got, want)
	}
	if entries[2].Line != 4 {
		t.Errorf("line of k = %d, want 4", entries[2].Line)
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Parse(data)
		if err != nil {
			return
		}
		last := 0
		for _, e := range entries {
			if e.Start < last || e.End < e.Start || e.End > len(data) {
				t.Fatalf("bad span [%d,%d) after %d in %d bytes", e.Start, e.End, last, len(data))
			}
			last = e.End
		}
	})
}
