package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/testtool"
)

// `make install DESTDIR=…` stages what an installer puts on a Pi: both
// programs stamped with the version, the hardened systemd units that
// systemd-analyze accepts, the sekisho user, the config (an existing one
// kept) and a private data dir.
func TestMakeInstallStagesAService(t *testing.T) {
	makeBin := testtool.Need(t, "make")
	analyze := testtool.Need(t, "systemd-analyze")
	root, outDir := t.TempDir(), t.TempDir()
	mine := func() string { // the developer's own build, if any
		fi, err := os.Stat("../../bin/controller")
		if err != nil {
			return "none"
		}
		return fi.ModTime().String()
	}
	before := mine()
	t.Cleanup(func() {
		if after := mine(); after != before {
			t.Errorf("make install in the tests changed bin/controller (%s, now %s)", before, after)
		}
	})
	install := func() {
		t.Helper()
		// Built into a temporary OUT: a developer's bin/ is left as it was.
		cmd := exec.Command(makeBin, "-C", "../..", "install", "DESTDIR="+root, "OUT="+outDir, "VERSION=v9.8.7-test", "COMMIT=0123456789ab")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make install: %v\n%s", err, out)
		}
	}
	install()
	mode := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	mode("usr/local/bin/controller", 0o755)
	mode("usr/local/bin/firmware-bridge", 0o755)
	mode("etc/sekisho/site.yaml", 0o640)
	mode("var/lib/sekisho", 0o750)
	mode("usr/lib/sysusers.d/sekisho.conf", 0o644)
	mode("etc/sekisho/hardware/pi-reference.yaml", 0o644)

	for _, prog := range [][]string{{"controller", "version"}, {"firmware-bridge", "--version"}} {
		out, err := exec.Command(filepath.Join(root, "usr/local/bin", prog[0]), prog[1]).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "v9.8.7-test (commit 0123456789ab") {
			t.Errorf("%s %s: %v %q", prog[0], prog[1], err, out)
		}
	}
	check := exec.Command(filepath.Join(root, "usr/local/bin/controller"), "check-config", "site.yaml")
	check.Dir = filepath.Join(root, "etc/sekisho") // as the unit runs it
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("the installed config: %v %s", err, out)
	}

	// The units, pointed at the staged programs, pass systemd's own check.
	var units []string
	for _, name := range []string{"sekisho-controller.service", "sekisho-bridge.service"} {
		b, err := os.ReadFile(filepath.Join(root, "lib/systemd/system", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Type=notify", "WatchdogSec=", "Restart=on-failure", "User=sekisho", "SupplementaryGroups=gpio",
			"ProtectSystem=strict", "ReadWritePaths=/var/lib/sekisho", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s has no %q", name, want)
			}
		}
		staged := filepath.Join(t.TempDir(), name)
		os.WriteFile(staged, bytes.ReplaceAll(b, []byte("/usr/local/bin/"), []byte(filepath.Join(root, "usr/local/bin")+"/")), 0o644)
		units = append(units, staged)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	// Installed again over a site's own config: the config is kept.
	site := filepath.Join(root, "etc/sekisho/site.yaml")
	if err := os.WriteFile(site, []byte("# this site's own\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	install()
	if b, _ := os.ReadFile(site); string(b) != "# this site's own\n" {
		t.Errorf("make install replaced the site's config: %q", b)
	}
}
