package cgdelegate

import (
	"reflect"
	"strings"
	"testing"
)

func TestSetIO(t *testing.T) {
	dir := cgroupDir(t, nil)
	read := []IOLimit{{Dev: "/dev/sda", Major: 8, Minor: 0, BytesPerSec: 10 << 20}, {Dev: "8:16", Major: 8, Minor: 16, BytesPerSec: 1 << 20}}
	write := []IOLimit{{Dev: "8:32", Major: 8, Minor: 32, BytesPerSec: 512 << 10}, {Dev: "8:0", Major: 8, Minor: 0, BytesPerSec: 2 << 20}}
	noErr(t, SetIO(dir, read, write))
	// One write per line; the plain file shows them one after the other.
	want := "8:0 rbps=10485760 wbps=2097152" + "8:16 rbps=1048576" + "8:32 wbps=524288"
	if got := readBack(t, dir, "io.max"); got != want {
		t.Errorf("io.max holds %q\nwant %q", got, want)
	}
}

func TestSetIOLastWins(t *testing.T) {
	dir := cgroupDir(t, nil)
	read := []IOLimit{{Major: 8, BytesPerSec: 1}, {Major: 8, BytesPerSec: 2}}
	noErr(t, SetIO(dir, read, nil))
	if got := readBack(t, dir, "io.max"); got != "8:0 rbps=2" {
		t.Errorf("io.max holds %q", got)
	}
}

func TestSetIOErrors(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"io.max": "-"})
	noErr(t, SetIO(dir, nil, nil)) // nothing asked, nothing written
	if err := SetIO(dir, []IOLimit{{Dev: "8:0", Major: 8, BytesPerSec: 1}}, nil); err == nil || !strings.Contains(err.Error(), `write "8:0 rbps=1" to `) {
		t.Errorf("no io.max: %v", err)
	}
	if err := SetIO(cgroupDir(t, nil), nil, []IOLimit{{Dev: "8:0", Major: 8}}); err == nil {
		t.Error("a zero rate was written")
	}
}

func TestReadIO(t *testing.T) {
	dir := cgroupDir(t, map[string]string{"io.stat": "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n" +
		"8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n" +
		"253:0 rbytes=1\n" + // not all counters: left out
		"bogus rbytes=1 wbytes=1 rios=1 wios=1\n"})
	want := []IOStat{
		{Major: 8, Minor: 16, RBytes: 1459200, WBytes: 314773504, RIOs: 192, WIOs: 353},
		{Major: 8, Minor: 0, RBytes: 90430464, WBytes: 299008000, RIOs: 8950, WIOs: 1252},
	}
	if got := ReadIO(dir); !reflect.DeepEqual(got, want) {
		t.Errorf("ReadIO = %+v\nwant %+v", got, want)
	}
	if got := ReadIO(cgroupDir(t, nil)); got != nil {
		t.Errorf("empty io.stat: %+v", got)
	}
	if got := ReadIO(t.TempDir()); got != nil {
		t.Errorf("no io.stat: %+v", got)
	}
}
