package site_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// A walk-in at the desk, in the browser: registered, briefed and checked in
// with a day badge; through the floor door; out by badging at the main
// entrance's inside reader; and the day's visitor log has the whole visit.
func TestDeskWalkInInTheBrowser(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	if err := ts.Store.CreateUser(context.Background(), "kimura", "manager", nil, "desk-and-log-2026"); err != nil {
		t.Fatal(err)
	}
	live := ts.stream()
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	defer shoot(t, ctx)

	ts.logIn(ctx, t, "kimura", "desk-and-log-2026")
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/desk"),
		chromedp.WaitVisible(chromedp.CSS(`#v-zones input[value="floor"]`)),
		// A missing company is refused, in the desk's words, and nothing is written.
		chromedp.SendKeys(chromedp.ID("v-name"), "Walk In"),
		chromedp.Click(chromedp.ID("v-register")),
		chromedp.WaitVisible(chromedp.CSS(`#desk-msg.bad`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("desk-msg")))
	if !strings.Contains(msg, "company is missing") {
		t.Fatalf("refusal shown: %q", msg)
	}
	if v, _ := ts.Store.Visits(context.Background(), time.Now().In(ts.Config.Location).Format("2006-01-02")); len(v) != 0 {
		t.Fatalf("a refused registration wrote %d visits", len(v))
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("v-company"), "Hamana Gear"),
		chromedp.SetValue(chromedp.ID("v-host"), "p-sato"),
		chromedp.SendKeys(chromedp.ID("v-purpose"), "quote"),
		chromedp.Click(chromedp.CSS(`#v-zones input[value="lobby"]`)),
		chromedp.Click(chromedp.CSS(`#v-zones input[value="floor"]`)),
		chromedp.Click(chromedp.ID("v-briefed")),
		chromedp.Click(chromedp.ID("v-register")),
		chromedp.WaitVisible(chromedp.CSS(`#visits tbody tr[data-status="registered"] button.checkin`)),
		chromedp.SetValue(chromedp.CSS(`#visits tbody tr[data-status="registered"] select.badge`), "7"),
		chromedp.Click(chromedp.CSS(`#visits tbody tr[data-status="registered"] button.checkin`)),
		chromedp.WaitVisible(chromedp.CSS(`#visits tbody tr[data-status="checked_in"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("badges-out-list")))
	if err != nil || out != "7" {
		t.Fatalf("badges out at the desk: %q %v", out, err)
	}
	in := await(t, live, "check-in", func(ev event.Event) bool { return ev.Type == event.VisitorCheckedIn })
	if in.Credential == nil || in.Credential.Number != 7 || in.Detail["host_name"] == "" || in.Actor != "kimura" {
		t.Fatalf("check-in event for the host's tools: %+v", in)
	}

	ts.swipe("r-floor-out", 200, 7)
	if ev := await(t, live, "onto the floor", func(ev event.Event) bool { return ev.Reader == "r-floor-out" }); ev.Type != event.AccessGranted {
		t.Fatalf("floor: %s %s", ev.Type, ev.Reason)
	}
	ts.swipe("r-floor-in", 200, 7)
	ts.swipe("r-main-in", 200, 7) // badging out at the inside-only entrance is the checkout
	await(t, live, "checkout", func(ev event.Event) bool { return ev.Type == event.VisitorCheckedOut })

	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/report"),
		chromedp.WaitVisible(chromedp.CSS(`#report tbody tr`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#report tbody tr td")].map(td => td.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 12 || cells[0] != "Walk In" || cells[1] != "Hamana Gear" || !strings.Contains(cells[2], "Sato") ||
		cells[3] != "quote" || cells[5] != "desk" || cells[6] != "7" || cells[7] == "" || cells[10] == "" {
		t.Fatalf("report row: %q", cells)
	}
	// The manager finds the visit again by company, across days.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("s-company"), "Hamana"),
		chromedp.Click(chromedp.ID("s-go")),
		chromedp.WaitVisible(chromedp.CSS(`#found tbody tr td a`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#found tbody tr td")].map(td => td.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 6 || found[1] != "Walk In" || found[2] != "Hamana Gear" {
		t.Fatalf("search found: %q", found)
	}
	waitFor(t, "viewing the visitor log in the log", func() bool {
		evs, _ := ts.Store.Events(context.Background(), store.Filter{Type: event.AuditViewed})
		return len(evs) > 0 && evs[0].Actor == "kimura"
	})
}

// A visitor badging out while a backup holds the database stalls no door:
// the press of the next card at another door moves its strike while the
// lock is still held and nothing reached the log, and the checkout is
// written once the lock goes, after its own event.
func TestBadgeOutWhileDatabaseHeldStallsNoDoor(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := context.Background()
	v := ts.register("Leaving Early", "Hamana Gear", "lobby", "floor")
	if code := ts.call("POST", "/api/visits/"+v.ID+"/checkin", map[string]any{"card": 21}, nil); code != http.StatusOK {
		t.Fatalf("check in: %d", code)
	}
	strike := ts.Sim.Door("floor-door").Strike
	backup, err := sql.Open("sqlite3", "file:"+ts.db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer backup.Close()
	conn, err := backup.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	held := true
	defer func() {
		if held {
			conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	var head int64
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM events").Scan(&head); err != nil {
		t.Fatal(err)
	}

	ts.swipe("r-main-in", 200, 21) // the visitor hands the badge back at the main entrance
	ts.swipe("r-floor-out", 12, 345)
	waitFor(t, "the floor door's strike, with the database held", func() bool { return strike.Read() == gpio.High })
	var now int64
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM events").Scan(&now); err != nil {
		t.Fatal(err)
	}
	if now != head {
		t.Fatalf("the log moved from %d to %d while it was held", head, now)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	held = false

	waitFor(t, "the checkout written after the lock", func() bool {
		got, err := ts.Store.GetVisit(ctx, v.ID)
		return err == nil && got.Status == sekisho.VisitCheckedOut
	})
	evs, err := ts.Store.Events(ctx, store.Filter{Visit: v.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var grantSeq, outSeq int64
	for _, e := range evs {
		switch {
		case e.Type == event.AccessGranted && e.Door == "main-entrance":
			grantSeq = e.Seq
		case e.Type == event.VisitorCheckedOut:
			outSeq = e.Seq
		}
	}
	if grantSeq == 0 || outSeq <= grantSeq {
		t.Fatalf("the badge back at the door (seq %d) and the checkout (seq %d): want both, in that order", grantSeq, outSeq)
	}
	if c, _, err := ts.Store.CardHolder(ctx, "H10301", 200, 21, ""); err != nil || c.Enabled {
		t.Fatalf("the day badge after checkout: %+v %v", c, err)
	}
}
