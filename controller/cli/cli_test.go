package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
)

func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVerifyExitCodes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "site.db")
	st, err := store.Open(context.Background(), db, "s")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := st.Append(context.Background(), &event.Event{Type: event.AccessGranted, Door: "d"}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ := run("verify", "--db", db)
	if code != 0 || !strings.Contains(out, "ok: 4 events") {
		t.Fatalf("intact: %d %q", code, out)
	}
	for _, q := range []string{`DROP TRIGGER events_append_only_update`, `UPDATE events SET body = replace(body, '"door":"d"', '"door":"x"') WHERE seq = 2`} {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	code, out, _ = run("verify", "--db", db)
	if code != 1 || !strings.Contains(out, "first bad seq 2") {
		t.Fatalf("tampered: %d %q", code, out)
	}
	if code, _, errOut := run("verify", "--db", filepath.Join(t.TempDir(), "missing.db")); code != 1 || !strings.Contains(errOut, "missing.db") {
		t.Fatalf("missing db: %d %q", code, errOut)
	}
}

func TestCheckConfig(t *testing.T) {
	code, out, _ := run("check-config", "../../configs/demo-factory.yaml")
	if code != 0 || !strings.Contains(out, "ok — site hamamatsu-press") {
		t.Fatalf("demo: %d %q", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "site: x\nzones: [{id: a}]\ndoors:\n  - {id: d, from: a, to: b, readers: {outside: r}}\n")
	code, _, errOut := run("check-config", bad)
	if code != 1 || !strings.Contains(errOut, bad+`:4: doors[0].to: no zone "b" is defined`) {
		t.Fatalf("bad: %d %q", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"user", "add", "x", "--role", "king"}, {"token", "create"}, {"check-config"}} {
		if code, _, errOut := run(args...); code != 2 || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}

func TestUserAddAndToken(t *testing.T) {
	db := filepath.Join(t.TempDir(), "site.db")
	st, err := store.Open(context.Background(), db, "s")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, _ := run("user", "add", "yamada", "--role", "manager", "--zones", "die-press", "--db", db)
	if code != 0 || !strings.Contains(out, "password: ") {
		t.Fatalf("user add: %d %q", code, out)
	}
	if code, _, errOut := run("user", "add", "yamada", "--role", "guard", "--db", db); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate user: %d %q", code, errOut)
	}
	code, out, _ = run("token", "create", "--role", "guard", "--db", db)
	if code != 0 || !strings.HasPrefix(out, "sk_") {
		t.Fatalf("token: %d %q", code, out)
	}
	st, _ = store.Open(context.Background(), db, "s")
	defer st.Close()
	if p, err := st.Token(context.Background(), strings.TrimSpace(out)); err != nil || p.Role != "guard" {
		t.Fatalf("token lookup: %+v %v", p, err)
	}
}

func TestPiConfigChecksAndNeedsGPIOToRun(t *testing.T) {
	if code, out, errOut := run("check-config", "../../configs/pi-two-doors.yaml"); code != 0 {
		t.Fatalf("check-config: %d %s %s", code, out, errOut)
	}
	if _, err := os.Stat("/dev/gpiochip0"); err == nil {
		t.Skip("this machine has GPIO")
	}
	t.Chdir("../..") // the config's board path is from the repository root
	code, _, errOut := run("run", "--config", "configs/pi-two-doors.yaml", "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "no GPIO pins") {
		t.Fatalf("run without GPIO: exit %d, %q", code, errOut)
	}
}
