package hq_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/hq"
	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/logtree"
)

// browser is one of head office's people at the pages.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func (o *office) browse(t testing.TB, base, name, password string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: base, c: &http.Client{Jar: jar}}
	res, err := b.c.PostForm(base+"/hq/login", url.Values{"name": {name}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/hq" {
		t.Fatalf("login as %s ended at %s", name, res.Request.URL)
	}
	var me map[string]string
	if code := b.do(http.MethodGet, "/hq/api/me", "", &me); code != http.StatusOK {
		t.Fatalf("me: %d", code)
	}
	b.csrf = me["csrf"]
	return b
}

func (b *browser) do(method, path, body string, into any) int {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if b.csrf != "" {
		req.Header.Set("X-Sekisho-CSRF", b.csrf)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil {
		raw, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(raw, into); err != nil {
			if s, ok := into.(*string); ok {
				*s = string(raw)
			}
		}
	}
	return res.StatusCode
}

// Head office's pages: only its people, each to their role; a change
// needs the page's token; a search names someone; every search, export
// and revocation is logged; guessing a password slows that address.
func TestHeadOfficePages(t *testing.T) {
	t.Parallel()
	hqo := newOffice(t)
	cfg := hqo.pagesOnly("plant-a")
	office := hqo.run(cfg, "hq-web")
	base := "http://" + office.Addr()
	ctx := context.Background()
	for name, role := range map[string]string{"kacho": ledger.RoleAdmin, "kansa": ledger.RoleAuditor} {
		if err := hqo.ledger.AddUser(ctx, name, role, "pw-"+name); err != nil {
			t.Fatal(err)
		}
	}
	// Nobody signed in: the API says so, the page sends them to log in.
	if res, err := http.Get(base + "/hq/api/sites"); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sites without a session: %v %v", res.Status, err)
	}
	if res, err := http.Get(base + "/hq"); err != nil || res.Request.URL.Path != "/hq/login" {
		t.Fatalf("the page without a session: %v", err)
	}

	auditor := hqo.browse(t, base, "kansa", "pw-kansa")
	var sites []map[string]any
	if code := auditor.do(http.MethodGet, "/hq/api/sites", "", &sites); code != http.StatusOK || len(sites) != 1 || sites[0]["id"] != "plant-a" {
		t.Fatalf("sites: %d %v", code, sites)
	}
	if code := auditor.do(http.MethodPost, "/hq/api/revocations", `{"employee_number":"E-1"}`, nil); code != http.StatusForbidden {
		t.Fatalf("an auditor revoking: %d", code)
	}
	if code := auditor.do(http.MethodGet, "/hq/api/search", "", nil); code != http.StatusBadRequest {
		t.Fatalf("a search naming nobody: %d", code)
	}
	var found []ledger.Found
	if code := auditor.do(http.MethodGet, "/hq/api/search?person=Sato&since=2026-01-01", "", &found); code != http.StatusOK {
		t.Fatalf("search: %d", code)
	}
	var csv string
	if code := auditor.do(http.MethodGet, "/hq/api/search.csv?company=Toyo", "", &csv); code != http.StatusOK || !strings.HasPrefix(csv, "site,seq,time") {
		t.Fatalf("export: %d %q", code, csv)
	}

	admin := hqo.browse(t, base, "kacho", "pw-kacho")
	token := admin.csrf
	admin.csrf = ""
	if code := admin.do(http.MethodPost, "/hq/api/revocations", `{"employee_number":"E-1"}`, nil); code != http.StatusForbidden {
		t.Fatalf("a change without the page's token: %d", code)
	}
	admin.csrf = token
	if code := admin.do(http.MethodPost, "/hq/api/revocations", `{"employee_number":""}`, nil); code != http.StatusBadRequest {
		t.Fatalf("a revocation of nobody: %d", code)
	}
	if code := admin.do(http.MethodPost, "/hq/api/revocations", `{"employee_number":"E-1","reason":"badge lost"}`, nil); code != http.StatusCreated {
		t.Fatalf("revoke: %d", code)
	}
	var rs []map[string]any
	if code := admin.do(http.MethodGet, "/hq/api/revocations", "", &rs); code != http.StatusOK || len(rs) != 1 || rs[0]["by"] != "kacho" {
		t.Fatalf("revocations: %d %v", code, rs)
	}

	var actions []string
	rows, err := hqo.ledger.Pool().Query(ctx, `SELECT name || ':' || action FROM audit WHERE action <> 'login' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if want := "kansa:search kansa:export kacho:revoke"; strings.Join(actions, " ") != want {
		t.Fatalf("audit: %v, want %s", actions, want)
	}

	// Guessing kacho's password from this address slows logins from it.
	jar, _ := cookiejar.New(nil)
	guesser := &http.Client{Jar: jar}
	for range 6 {
		res, err := guesser.PostForm(base+"/hq/login", url.Values{"name": {"kacho"}, "password": {"guess"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	res, err := guesser.PostForm(base+"/hq/login", url.Values{"name": {"kacho"}, "password": {"pw-kacho"}})
	if err != nil || res.Request.URL.Query().Get("locked") == "" {
		t.Fatalf("the right password right after guesses: %v %v", res.Request.URL, err)
	}
}

// pagesOnly is hq.yaml for head office's pages alone: one plant, named,
// that never reports (a key nobody keeps).
func (o *office) pagesOnly(plantName string) *hq.Config {
	o.t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, _, vkey, err := logtree.NoteKeys("sekisho/plant-a", key)
	if err != nil {
		o.t.Fatal(err)
	}
	path := filepath.Join(o.dir, "hq.yaml")
	text := "name: 本社\nlisten: 127.0.0.1:0\npostgres: " + o.dsn + "\nkey_file: " + o.keyFile + "\nbroker:\n  url: " + o.broker.URL +
		"\nsites:\n  - id: plant-a\n    name: " + plantName + "\n    key: " + vkey + "\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		o.t.Fatal(err)
	}
	cfg, err := hq.Load(path)
	if err != nil {
		o.t.Fatal(err)
	}
	return cfg
}
