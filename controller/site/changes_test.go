package site_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
)

// Every change of who may pass is in the chain, with who made it: the
// config the run started with, people and cards added over the API or by
// CSV, accounts and tokens made at the command line.
func TestChangesOfWhoMayPassAreInTheChain(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "") // makes an admin token with the CLI
	ts.addCardholder("Kato Ren", []string{"staff"}, 31, 4001)
	csv := "id,name,kind,company,levels,format,facility,number\nimp-1,Mori Aoi,contractor,Mori Kogyo,staff,H10301,31,4002\n"
	req, _ := http.NewRequest("POST", ts.base+"/api/people/import", bytes.NewBufferString(csv))
	req.Header.Set("Authorization", "Bearer "+ts.token)
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("import: %v %v", err, res.Status)
	}
	res.Body.Close()
	if code, out := runCLI(t, "user", "add", "sato", "--role", "guard", "--password", "a-long-password-1", "--db", ts.db); code != 0 {
		t.Fatalf("user add: %s", out)
	}

	var evs []event.Event
	found := map[string]event.Event{}
	waitFor(t, "every change in the log", func() bool {
		ts.call("GET", "/api/events?limit=1000", nil, &evs)
		for _, ev := range evs {
			if _, ok := found[ev.Type]; !ok {
				found[ev.Type] = ev
			}
		}
		for _, typ := range []string{event.ConfigLoaded, event.TokenCreated, event.PersonAdded, event.CredentialAdded, event.PeopleImported, event.UserCreated} {
			if _, ok := found[typ]; !ok {
				return false
			}
		}
		return true
	})
	cfg, _ := os.ReadFile("../../configs/demo-factory.yaml")
	sum := sha256.Sum256(cfg)
	if got := found[event.ConfigLoaded].Detail["sha256"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("config.loaded sha256 %s", got)
	}
	csvSum := sha256.Sum256([]byte(csv))
	if got := found[event.PeopleImported]; got.Detail["sha256"] != hex.EncodeToString(csvSum[:]) || got.Detail["people"] != "1" || got.Actor == "" {
		t.Errorf("people.imported %+v", got)
	}
	if got := found[event.CredentialAdded]; got.Credential == nil || got.Credential.Number != 4001 || got.Person == nil || got.Person.Name != "Kato Ren" || got.Actor == "" {
		t.Errorf("credential.added %+v", got)
	}
	if got := found[event.UserCreated]; got.Detail["user"] != "sato" || got.Detail["role"] != "guard" || got.Actor == "" {
		t.Errorf("user.created %+v", got)
	}
	if got := found[event.TokenCreated]; got.Detail["role"] != "admin" {
		t.Errorf("token.created %+v", got)
	}
	if v, err := ts.Store.Verify(t.Context()); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// An admin who gives a dashboard user a new password, or revokes them, at
// the command line ends their open session at once; a revoked user's
// password no longer signs in; both are in the chain with who did it.
func TestARevokedUserIsOutAtOnce(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	if code, out := runCLI(t, "user", "add", "sato", "--role", "guard", "--password", "a-long-password-1", "--db", ts.db); code != 0 {
		t.Fatalf("user add: %s", out)
	}
	password := "a-long-password-1"
	login := func() *http.Response {
		res, err := noRedirect.PostForm(ts.base+"/login", url.Values{"name": {"sato"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := login()
	if res.Header.Get("Location") != "/" || len(res.Cookies()) == 0 {
		t.Fatalf("login: %s %v", res.Header.Get("Location"), res.Cookies())
	}
	me := func() int {
		req, _ := http.NewRequest("GET", ts.base+"/api/me", nil)
		for _, c := range res.Cookies() {
			req.AddCookie(c)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := me(); code != http.StatusOK {
		t.Fatalf("the session before: %d", code)
	}
	// A new password ends the session that the old one opened.
	if code, out := runCLI(t, "user", "password", "sato", "--password", "another-password-2", "--db", ts.db); code != 0 || !strings.Contains(out, "sessions are ended") {
		t.Fatalf("user password: %d %s", code, out)
	}
	if code := me(); code != http.StatusUnauthorized {
		t.Fatalf("the session after a new password: %d", code)
	}
	if got := login().Header.Get("Location"); got != "/login?failed=1" {
		t.Fatalf("the old password after a new one: %s", got)
	}
	password = "another-password-2"
	if res = login(); res.Header.Get("Location") != "/" {
		t.Fatalf("the new password: %s", res.Header.Get("Location"))
	}
	if code := me(); code != http.StatusOK {
		t.Fatalf("the session of the new password: %d", code)
	}
	if code, out := runCLI(t, "user", "revoke", "sato", "--db", ts.db); code != 0 || !strings.Contains(out, "sato revoked") {
		t.Fatalf("user revoke: %d %s", code, out)
	}
	if code := me(); code != http.StatusUnauthorized {
		t.Fatalf("the session after revoking: %d", code)
	}
	if got := login().Header.Get("Location"); got != "/login?failed=1" {
		t.Fatalf("login after revoking: %s", got)
	}
	if code, out := runCLI(t, "user", "revoke", "sato", "--db", ts.db); code != 1 || !strings.Contains(out, "revoked already") {
		t.Fatalf("revoking twice: %d %s", code, out)
	}
	if code, out := runCLI(t, "user", "list", "--db", ts.db); code != 0 || !regexp.MustCompile(`sato\s+guard\s+-\s+\S+\s+0\s+20\d\d-`).MatchString(out) {
		t.Fatalf("user list: %d %s", code, out)
	}
	if code, out := runCLI(t, "user", "password", "sato", "--db", ts.db); code != 1 || !strings.Contains(out, "revoked") {
		t.Fatalf("a new password for a revoked user: %d %s", code, out)
	}
	for _, typ := range []string{event.UserPasswordChanged, event.UserRevoked} {
		var evs []event.Event
		waitFor(t, typ+" in the log", func() bool {
			ts.call("GET", "/api/events?type="+typ, nil, &evs)
			return len(evs) == 1
		})
		if evs[0].Detail["user"] != "sato" || !strings.HasPrefix(evs[0].Actor, "cli:") {
			t.Fatalf("%s %+v", typ, evs[0])
		}
	}
}
