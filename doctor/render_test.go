package doctor

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var sample = []Check{
	{Name: "userns", Status: OK, Detail: "unprivileged user namespaces allowed (max_user_namespaces=96364)"},
	{Name: "tun", Status: Warn, Detail: "/dev/net/tun not read-write", Fix: "sudo chmod 0666 /dev/net/tun"},
	{Name: "cgroup-delegation", Status: Fail, Detail: "first failure", Fix: "one\nor: two"},
	{Name: "kernel", Status: Fail, Detail: "second failure", Fix: "three"},
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	WriteText(&b, sample)
	want := `ok    userns            unprivileged user namespaces allowed (max_user_namespaces=96364)
warn  tun               /dev/net/tun not read-write
      fix: sudo chmod 0666 /dev/net/tun
fail  cgroup-delegation first failure
      fix: one
           or: two
fail  kernel            second failure
      fix: three
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestExplain(t *testing.T) {
	if got, want := Explain(sample), "first failure; fix: one; or: two"; got != want {
		t.Errorf("Explain = %q, want %q", got, want)
	}
	if got := Explain(sample[:2]); got != "" {
		t.Errorf("Explain without failures = %q", got)
	}
	noFix := []Check{{Name: "x", Status: Fail, Detail: "broken"}}
	if got := Explain(noFix); got != "broken" {
		t.Errorf("Explain without a fix = %q", got)
	}
	if !Failed(sample) || Failed(sample[:2]) || Failed(nil) {
		t.Error("Failed disagrees with the statuses")
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample); err != nil {
		t.Fatal(err)
	}
	var back []Check
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sample) {
		t.Errorf("round trip: got %+v", back)
	}
	// An ok check has no fix, and its JSON says so by leaving it out.
	var raw []map[string]any
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw[0]["fix"]; ok || raw[0]["status"] != "ok" || raw[1]["fix"] == nil {
		t.Errorf("JSON fields: %v", raw[:2])
	}
	b.Reset()
	if err := WriteJSON(&b, nil); err != nil || strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("WriteJSON(nil) = %q, %v", b.String(), err)
	}
}
