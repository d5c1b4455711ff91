package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles the command pkg into a temporary binary, the way an
// installer would, so a test can run it as its own process. Under -race the
// binary is race-checked too (and reuses the test build's cache).
func Build(t testing.TB, pkg string) string {
	t.Helper()
	// The go that runs the tests, as `go test` names it in GOROOT; else
	// the one on PATH.
	goCmd := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goCmd); os.Getenv("GOROOT") == "" || err != nil {
		goCmd = Need(t, "go")
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goCmd, append(args, pkg)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
