package userns

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestExplainExec(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sh")
	if err := os.WriteFile(script, []byte("#!/no/such/interp -x\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := explainExec(script, syscall.ENOENT).Error(); !strings.Contains(got, "interpreter /no/such/interp") {
		t.Errorf("script: %q, want the interpreter named", got)
	}
	if got := explainExec(script, syscall.EACCES); got != syscall.EACCES {
		t.Errorf("other errors pass unchanged, got %v", got)
	}
	if got := explainExec(filepath.Join(dir, "missing"), syscall.ENOENT); got != syscall.ENOENT {
		t.Errorf("a missing file: %v, want ENOENT as it is", got)
	}
}
