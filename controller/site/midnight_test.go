package site_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/site"
)

// The desk's "today" turns over at the site's midnight, not the browser's
// or the machine's: the browser here is in another day, and the site's
// clock is moved from 23:59 to 00:00.
func TestDeskTurnsOverAtTheSiteMidnight(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	ts := startSiteWith(t, func(o *site.Options) {
		o.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	tokyo := ts.Config.Location
	d := time.Now().In(tokyo)
	before := time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 30, 0, tokyo)
	after := before.Add(time.Minute)
	clock.Store(before.UnixNano())
	if err := ts.Store.CreateUser(context.Background(), "kimura", "manager", nil, "desk-and-log-2026"); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	defer shoot(t, ctx)
	ts.logIn(ctx, t, "kimura", "desk-and-log-2026")

	register := func(name string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(ts.base+"/desk"),
			chromedp.WaitVisible(chromedp.CSS(`#v-zones input[value="lobby"]`)),
			chromedp.SendKeys(chromedp.ID("v-name"), name),
			chromedp.SendKeys(chromedp.ID("v-company"), "Hamana Gear"),
			chromedp.SetValue(chromedp.ID("v-host"), "p-sato"),
			chromedp.Click(chromedp.CSS(`#v-zones input[value="lobby"]`)),
			chromedp.Click(chromedp.ID("v-briefed")),
			chromedp.Click(chromedp.ID("v-register")),
			chromedp.WaitVisible(chromedp.CSS(`#desk-msg.ok`)),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	listed := func() (today, date string, names []string) {
		t.Helper()
		var err [3]error
		today, err[0] = chromedp.Run(ctx, chromedp.Text(chromedp.ID("today")))
		date, err[1] = chromedp.Run(ctx, chromedp.Value(chromedp.ID("v-date")))
		names, err[2] = chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#visits tbody tr td:first-child")].map(td => td.textContent)`))
		for _, e := range err {
			if e != nil {
				t.Fatal(e)
			}
		}
		return today, date, names
	}

	register("Late Caller")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#visits tbody tr[data-status="registered"]`))); err != nil {
		t.Fatal(err)
	}
	today, date, names := listed()
	if day := before.Format(time.DateOnly); today != day || date != day || len(names) != 1 {
		t.Fatalf("at 23:59 the desk shows today %q, default date %q, visits %q; want %s and the late caller", today, date, names, day)
	}

	clock.Store(after.UnixNano())
	register("Early Bird") // the desk's default date is the new day: not "in the past"
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#visits tbody tr[data-status="registered"]`))); err != nil {
		t.Fatal(err)
	}
	today, date, names = listed()
	if day := after.Format(time.DateOnly); today != day || date != day || len(names) != 1 || names[0] != "Early Bird" {
		t.Fatalf("after midnight the desk shows today %q, default date %q, visits %q; want %s and only the early bird", today, date, names, day)
	}
	// Yesterday's visit cannot be checked in today.
	visits, err := ts.Store.Visits(context.Background(), before.Format(time.DateOnly))
	if err != nil || len(visits) != 1 {
		t.Fatalf("yesterday's visits: %v %v", visits, err)
	}
	code, word, _ := ts.refusal(t, "POST", "/api/visits/"+visits[0].ID+"/checkin", `{"card":7}`, "")
	if code != 400 && code != 409 || word != "not_today" {
		t.Fatalf("checking in yesterday's visit: %d %s", code, word)
	}
}
