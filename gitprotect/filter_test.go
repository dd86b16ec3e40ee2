package gitprotect

import (
	"reflect"
	"strings"
	"testing"
)

func TestFilter(t *testing.T) {
	cases := []struct {
		name          string
		host, sandbox string
		want          string
		refused       []string
	}{
		{
			name:    "new fsmonitor removed, email kept",
			host:    "[user]\n\temail = a@b\n",
			sandbox: "[user]\n\temail = c@d\n[core]\n\tfsmonitor = evil\n\tbare = false\n",
			want:    "[user]\n\temail = c@d\n[core]\n\tbare = false\n",
			refused: []string{"core.fsmonitor"},
		},
		{
			name:    "host's own setting stays",
			host:    "[credential]\n\thelper = store\n",
			sandbox: "[credential]\n\thelper = store\n[user]\n\tname = x\n",
			want:    "[credential]\n\thelper = store\n[user]\n\tname = x\n",
		},
		{
			name:    "changed value removed",
			host:    "[core]\n\tpager = less\n",
			sandbox: "[core]\n\tpager = evil\n",
			want:    "[core]\n",
			refused: []string{"core.pager"},
		},
		{
			name:    "deleting is allowed",
			host:    "[core]\n\tpager = less\n",
			sandbox: "[core]\n",
			want:    "[core]\n",
		},
		{
			name:    "header on the same line is kept",
			sandbox: "[core] fsmonitor = evil\n[user]\nname = x\n",
			want:    "[core] \n[user]\nname = x\n",
			refused: []string{"core.fsmonitor"},
		},
		{
			name:    "continuation lines removed whole",
			sandbox: "[alias]\n\tx = !sh \\\n -c evil\n[a]\nk = v\n",
			want:    "[alias]\n[a]\nk = v\n",
			refused: []string{"alias.x"},
		},
		{
			name:    "each key listed once",
			sandbox: "[include]\npath = a\npath = b\n[filter \"x\"]\nclean = c\n",
			want:    "[include]\n[filter \"x\"]\n",
			refused: []string{"include.path", "filter.x.clean"},
		},
		{
			name:    "bare differs from empty",
			host:    "[core]\nfsmonitor =\n",
			sandbox: "[core]\nfsmonitor\n",
			want:    "[core]\n",
			refused: []string{"core.fsmonitor"},
		},
		{
			name:    "unparseable keeps host",
			host:    "[user]\nname = x\n",
			sandbox: "[user]\nname = y\n[core]\nfsmonitor = \"evil\n",
			want:    "[user]\nname = x\n",
			refused: []string{"unparseable: line 4"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, refused := Filter([]byte(tc.host), []byte(tc.sandbox))
			if string(out) != tc.want {
				t.Errorf("out = %q, want %q", out, tc.want)
			}
			if !reflect.DeepEqual(refused, tc.refused) {
				t.Errorf("refused = %q, want %q", refused, tc.refused)
			}
		})
	}
}

func FuzzFilter(f *testing.F) {
	f.Add([]byte("[core]\npager = less\n"), []byte("[core] pager = evil\n[alias]\nx = !y\n"))
	f.Add([]byte(""), []byte("[core]fsmonitor=x\r\n[a][include]path=p"))
	for _, tc := range parseCases {
		f.Add([]byte("[core]\nfsmonitor = x\n"), []byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, host, sandbox []byte) {
		out, refused := Filter(host, sandbox)
		if _, err := Parse(sandbox); err != nil {
			if string(out) != string(host) || len(refused) != 1 || !strings.HasPrefix(refused[0], "unparseable") {
				t.Fatalf("unparseable sandbox: out = %q, refused = %q", out, refused)
			}
			return
		}
		entries, err := Parse(out)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, out)
		}
		allowed := hostRunsCode(host)
		for _, e := range entries {
			if RunsCode(e) && !allowed[identity(e)] {
				t.Fatalf("output sets %s = %q, which the host lacked", e.Key(), e.Value)
			}
		}
	})
}
