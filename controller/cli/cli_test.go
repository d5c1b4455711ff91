package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/release"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
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

func TestPeopleImportIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "site.db")
	st, err := store.Open(context.Background(), db, "s")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, bad, "id,name,kind,company,levels,format,facility,number,pin\n"+
		"p-1,佐藤,employee,,press-operators,H10301,12,501,\n"+
		"p-2,,employee,,staff,H10301,12,502,\n"+ // no name
		"p-3,伊藤,robot,,staff,H10301,12,503,\n"+ // bad kind
		"p-4,加藤,employee,,vault,H10301,12,504,\n"+ // unknown level
		"p-5,林,employee,,staff,H10301,300,505,\n"+ // facility out of range
		"p-6,森,employee,,staff,H10301,12,501,\n"+ // same card as line 2
		"p-7,池田,employee,,staff,H10301,12,507,12\n") // PIN too short
	code, _, errOut := run("people", "import", bad, "--config", "../../configs/demo-factory.yaml", "--db", db)
	if code != 1 {
		t.Fatalf("bad import exit %d", code)
	}
	for _, want := range []string{":3: name is empty", ":4: kind \"robot\"", ":5: no access level \"vault\"", ":6: ", "facility 0–255", ":7: the same card as line 2", ":8: a PIN is 4 to 12 digits"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("report lacks %q:\n%s", want, errOut)
		}
	}
	_, out, _ := run("people", "export", "--db", db)
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("a refused import wrote something:\n%s", out)
	}

	good := filepath.Join(dir, "good.csv")
	writeFile(t, good, "id,name,kind,company,levels,format,facility,number,pin,valid_until\n"+
		"p-1,佐藤,employee,,press-operators;staff,H10301,12,501,2468,\n"+
		"p-1,佐藤,employee,,press-operators;staff,H10301,12,511,,\n"+
		"p-8,遠州 太郎,contractor,遠州設備,staff,H10301,12,508,,2027-03-31T23:59:59+09:00\n"+
		"p-9,受付 花子,employee,,staff,,,,,\n")
	code, out, errOut = run("people", "import", good, "--config", "../../configs/demo-factory.yaml", "--db", db)
	if code != 0 || !strings.Contains(out, "imported 3 people and 3 cards") {
		t.Fatalf("good import: %d %s %s", code, out, errOut)
	}
	// Importing again updates; nothing doubles.
	if code, out, _ = run("people", "import", good, "--config", "../../configs/demo-factory.yaml", "--db", db); code != 0 {
		t.Fatalf("re-import: %s", out)
	}
	_, out, _ = run("people", "export", "--db", db)
	if lines := strings.Count(out, "\n"); lines != 5 || !strings.Contains(out, "p-8,遠州 太郎,contractor,遠州設備,,staff,H10301,12,508,,,,2027-03-31T14:59:59Z,true") {
		t.Fatalf("export (%d lines):\n%s", lines, out)
	}
	st, _ = store.Open(context.Background(), db, "s")
	defer st.Close()
	c, _, err := st.CardHolder(context.Background(), "H10301", 12, 501, "")
	if err != nil || !c.CheckPIN("2468") {
		t.Fatalf("imported PIN: %v", err)
	}
}

// Enrolling a door Pi is one command: it writes the door Pi's file (0600,
// with the controller's key and the broker's certificate) and records the
// door Pi's public key where the controller looks for it.
func TestBridgeEnroll(t *testing.T) {
	demo, err := os.ReadFile("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(demo), "  - id: press-door\n", "  - id: press-door\n    bridge: door-pi-1\n    slot: door-1\n", 1)
	cfg = strings.Replace(cfg, "    listen: \"127.0.0.1:1883\"\n", "    listen: \"127.0.0.1:1883\"\n    tls: { self_signed: true }\n", 1)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "door-pi-1.enrollment")
	data := filepath.Join(dir, "data")

	if code, _, errOut := run("bridge", "enroll", "door-pi-9", "--config", cfgPath, "--data-dir", data, "--out", out); code != 1 || !strings.Contains(errOut, "door-pi-1") {
		t.Fatalf("enrolling a door Pi the config does not name: %d %s", code, errOut)
	}
	code, stdout, errOut := run("bridge", "enroll", "door-pi-1", "--config", cfgPath, "--data-dir", data, "--out", out)
	if code != 0 || !strings.Contains(stdout, "controller key fingerprint") || !strings.Contains(stdout, "broker certificate SHA-256") {
		t.Fatalf("enroll: %d %s %s", code, stdout, errOut)
	}
	info, err := os.Stat(out)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("enrolment file: %v %v", info, err)
	}
	e, err := remote.ReadEnrolment(out)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sitekeys.Controller(data)
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := sitekeys.Bridge(data, "door-pi-1")
	if err != nil || !bytes.Equal(recorded, e.BoxPublic) {
		t.Fatalf("recorded key %x, enrolment's %x (%v)", recorded, e.BoxPublic, err)
	}
	if !e.ControllerKey.Equal(key.Public()) || e.Bridge != "door-pi-1" || e.Prefix != "sekisho/hamamatsu-press" || !strings.Contains(e.BrokerCA, "BEGIN CERTIFICATE") {
		t.Fatalf("enrolment: %+v", e)
	}
}

// An installer asks which build runs, and picks the process log's form.
func TestVersionAndLogFlags(t *testing.T) {
	release.Version, release.Commit = "v1.2.3", "abc1234"
	t.Cleanup(func() { release.Version, release.Commit = "", "" })
	for _, arg := range []string{"version", "--version"} {
		code, out, _ := run(arg)
		if code != 0 || !strings.HasPrefix(out, "sekisho controller v1.2.3 (commit abc1234, go") {
			t.Errorf("%s: %d %q", arg, code, out)
		}
	}
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		code, _, errOut := run(append([]string{"run", "--config", "../../configs/demo-factory.yaml"}, args...)...)
		if code != 2 || !strings.Contains(errOut, args[1]) {
			t.Errorf("run %v: %d %q", args, code, errOut)
		}
	}
}

// -h asks for help: the command's own usage on stdout, and exit 0.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"verify", "-h"}, {"user", "-h"}, {"export", "--help"}, {"sim", "swipe", "-h"}} {
		var out, errOut bytes.Buffer
		if code := Run(context.Background(), args, &out, &errOut); code != 0 {
			t.Errorf("%v: exit %d (%s)", args, code, errOut.String())
		}
		want := "controller " + args[0]
		if args[0] == "-h" {
			want = "controller run"
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("%v: help says %q", args, out.String())
		}
	}
}
