package site_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
)

// A page on another port of the same host (same site, so SameSite=Strict
// lets the cookie through) tries to unlock a door and start a lockdown
// through a signed-in guard's browser: both are refused, nothing moves, and
// the guard's own board still works.
func TestAnotherSitesPageCannotUnlockThroughTheGuard(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	strike := ts.Sim.Door("floor-door").Strike
	before := strike.Changes()
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><body>
<form id="unlock" method="post" action="%[1]s/api/doors/floor-door/unlock" enctype="text/plain"><input name='{"a":"' value='"}'></form>
<script>
fetch("%[1]s/api/lockdown", {method: "POST", mode: "no-cors", credentials: "include", body: '{"active":true}', headers: {"Content-Type": "text/plain"}})
  .finally(() => document.getElementById("unlock").submit());
</script></body>`, ts.base)
	}))
	defer evil.Close()

	ctx := ts.guardAtBoard(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(evil.URL),
		chromedp.WaitVisible(chromedp.CSS(`body`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The form's answer replaces the page: wait for it, then read it.
	waitFor(t, "the forged form's answer", func() bool {
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		return err == nil && strings.Contains(body, "cross_site")
	})
	if strike.Changes() != before {
		t.Fatal("the floor door's strike moved for another site's page")
	}
	if started, _ := ts.Store.Events(context.Background(), store.Filter{Type: event.LockdownStarted}); len(started) != 0 {
		t.Fatal("another site's page started a lockdown")
	}
	grants, _ := ts.Store.Events(context.Background(), store.Filter{Door: "floor-door", Type: event.AccessGranted})
	if len(grants) != 0 {
		t.Fatalf("a console grant was logged: %+v", grants)
	}

	// The guard's own page still may.
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#doors .door`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`Site.api("/api/doors/floor-door/unlock", {method: "POST", body: "{}"})`, chromedp.EvalAwaitPromise)(ctx, tg)
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the guard's own unlock", func() bool { return strike.Changes() > before })
}

// The API's answers to a browser session: security headers on every page,
// a change refused without the page's token or from another origin, and a
// form-encoded body refused even with it.
func TestBrowserSessionChangesNeedTheirToken(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	if err := ts.Store.CreateUser(context.Background(), "yamada", "guard", nil, "shift-a-2026"); err != nil {
		t.Fatal(err)
	}
	res, err := noRedirect.PostForm(ts.base+"/login", map[string][]string{"name": {"yamada"}, "password": {"shift-a-2026"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		cookie = c
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if res.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP: %s", res.Header.Get("Content-Security-Policy"))
	}
	var me struct{ CSRF string }
	req, _ := http.NewRequest("GET", ts.base+"/api/me", nil)
	req.AddCookie(cookie)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("me: %v %v", r, err)
	} else {
		defer r.Body.Close()
		if err := json.NewDecoder(r.Body).Decode(&me); err != nil || me.CSRF == "" {
			t.Fatalf("me: no csrf token (%v)", err)
		}
	}
	for _, tc := range []struct {
		name, origin, token, ctype string
		want                       int
	}{
		{"no token", "", "", "application/json", 403},
		{"another origin", "http://127.0.0.1:1", me.CSRF, "application/json", 403},
		{"a form", "", me.CSRF, "application/x-www-form-urlencoded", 415},
		{"the page's own", "", me.CSRF, "application/json", 200},
	} {
		req, _ := http.NewRequest("POST", ts.base+"/api/lockdown", strings.NewReader(`{"active":false,"reason":"test"}`))
		req.AddCookie(cookie)
		req.Header.Set("Content-Type", tc.ctype)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.token != "" {
			req.Header.Set("X-Sekisho-CSRF", tc.token)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.want)
		}
	}
}
