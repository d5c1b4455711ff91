package site_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/config"
)

// A guard who walks away is signed out: the controller ends a session
// unused for http.session_idle (the site's clock moved on), and a page left
// open warns, then signs out by itself.
func TestIdleGuardIsSignedOut(t *testing.T) {
	t.Parallel()
	ts, ahead := startSiteAhead(t)
	ctx := ts.guardAtBoard(t)
	ahead.Store(int64(16 * time.Minute))
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.base+"/"), chromedp.WaitVisible(chromedp.ID("login-button"))); err != nil {
		t.Fatal(err)
	}
	where, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(where, "/login") {
		t.Fatalf("after 16 idle minutes the board is still open: %s", where)
	}

	// The page's own watch, with a two-second idle limit. The site's clock
	// stands still, so only the page's watch can end the session: a slow
	// machine's pause between login and board does not.
	short, _ := startSiteOnClock(t, func(cfg *config.Config) { cfg.HTTP.SessionIdle = 2 * time.Second })
	ctx2 := short.guardAtBoard(t)
	if err := chromedp.Do(ctx2, chromedp.WaitVisible(chromedp.ID("idle-warning"))); err != nil {
		t.Fatalf("no warning before the idle sign-out: %v", err)
	}
	if err := chromedp.Do(ctx2, chromedp.WaitVisible(chromedp.ID("idle"))); err != nil {
		t.Fatalf("the page did not sign out when idle: %v", err)
	}
	if where, err = chromedp.Run(ctx2, chromedp.Location()); err != nil || !strings.Contains(where, "/login?idle=1") {
		t.Fatalf("the page did not sign out when idle: %s %v", where, err)
	}
}
