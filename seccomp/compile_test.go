//go:build linux

package seccomp

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The program travels from sbx's parent to PID 1 as JSON.
func TestProgramJSON(t *testing.T) {
	p := mustCompile(t, Options{Caps: dockerCaps})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Program
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, &q) {
		t.Fatal("program changed in JSON")
	}
	t.Logf("%d bytes of JSON", len(b))
	// One base64 string per filter: 8 bytes an instruction.
	var wire struct{ Filters []string }
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	if len(wire.Filters) != 1 || len(wire.Filters[0]) != base64.StdEncoding.EncodedLen(8*len(p.Filters[0])) {
		t.Fatalf("filters in JSON: %.80q", wire.Filters)
	}
}

func TestFilterJSON(t *testing.T) {
	f := Filter{{Op: 0x20, K: 4}, {Op: 0x15, Jt: 1, Jf: 2, K: 0xc000003e}, {Op: 0x06, K: 0x7fff0000}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	// struct sock_filter, little-endian: u16 code, u8 jt, u8 jf, u32 k.
	raw := []byte{0x20, 0, 0, 0, 4, 0, 0, 0, 0x15, 0, 1, 2, 0x3e, 0, 0, 0xc0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}
	if want := `"` + base64.StdEncoding.EncodeToString(raw) + `"`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	for _, tc := range []struct {
		in   string
		want Filter
	}{
		{string(b), f},
		{`"` + strings.ReplaceAll(base64.StdEncoding.EncodeToString(raw), "/", `\/`) + `"`, f}, // with an escape (\/ for /)
		{`null`, nil},
		{`""`, nil},
	} {
		var g Filter
		if err := json.Unmarshal([]byte(tc.in), &g); err != nil {
			t.Errorf("%s: %v", tc.in, err)
		} else if !reflect.DeepEqual(g, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.in, g, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`"` + base64.StdEncoding.EncodeToString(raw[:20]) + `"`, "20 bytes, not a whole number of 8-byte instructions"},
		{`"` + base64.StdEncoding.EncodeToString(raw[:7]) + `"`, "7 bytes"},
		{`"not base64!"`, "illegal base64"},
		{`[{"Op": 6}]`, "seccomp filter: json: cannot unmarshal array"},
		{`42`, "seccomp filter: json: cannot unmarshal number"},
	} {
		var g Filter
		err := json.Unmarshal([]byte(tc.in), &g)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
	// Inside a Program, as it travels.
	var p Program
	if err := json.Unmarshal([]byte(`{"Mode":"default","Filters":["AAAA"]}`), &p); err == nil || !strings.Contains(err.Error(), "3 bytes") {
		t.Errorf("program with a short filter: %v", err)
	}
}

// Compile runs in sbx's parent on every run.
func TestCompileTime(t *testing.T) {
	mustCompile(t, Options{Caps: dockerCaps}) // warm up (kernel version, tables)
	const n = 50
	start := time.Now()
	for range n {
		mustCompile(t, Options{Caps: dockerCaps})
	}
	per := time.Since(start) / n
	t.Logf("Compile(default): %v", per)
	if per > 50*time.Millisecond {
		t.Errorf("Compile takes %v", per)
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(Options{Caps: dockerCaps}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProgramJSONEncode(b *testing.B) {
	p := mustCompile(b, Options{Caps: dockerCaps})
	for b.Loop() {
		if _, err := json.Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProgramJSONDecode(b *testing.B) {
	body, err := json.Marshal(mustCompile(b, Options{Caps: dockerCaps}))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var p Program
		if err := json.Unmarshal(body, &p); err != nil {
			b.Fatal(err)
		}
	}
}
