package site_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// A visitor registered at the desk for the press alone: the clerk is shown
// the lobby and the floor added on the way; once checked in (and not yet
// through any door) the visitor is on the muster list, last seen at the
// desk; the badge opens the floor door and, after the cover check and with
// an escort, the press door. A visit for tomorrow is on the desk's coming list.
func TestDeskPathMusterAndComingVisits(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	tomorrow := time.Now().In(ts.Config.Location).AddDate(0, 0, 1).Format("2006-01-02")
	if code := ts.call("POST", "/api/visits", map[string]any{"name": "明日 来る", "company": "Enshu Denki", "host": "p-sato",
		"date": tomorrow, "zones": []string{"floor"}}, nil); code != http.StatusCreated {
		t.Fatalf("tomorrow's visit: %d", code)
	}
	ctx := ts.guardAtBoard(t)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1366, 768),
		language("ja"),
		chromedp.Navigate(ts.base+"/desk"),
		chromedp.WaitVisible(chromedp.CSS(`#v-zones input[value="die-press"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#upcoming tbody tr[data-visit]`)),
		chromedp.SendKeys(chromedp.ID("v-name"), "伊藤 誠"),
		chromedp.SendKeys(chromedp.ID("v-company"), "Toyo Auto"),
		chromedp.SetValue(chromedp.ID("v-host"), "p-sato"),
		chromedp.Click(chromedp.CSS(`#v-zones input[value="die-press"]`)),
		chromedp.SendKeys(chromedp.ID("v-nda"), "NDA-2026-7"),
		chromedp.SendKeys(chromedp.ID("v-locker"), "12"),
		chromedp.Click(chromedp.ID("v-briefed")),
		chromedp.Click(chromedp.ID("v-register")),
		chromedp.WaitVisible(chromedp.CSS(`#desk-msg.ok`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("desk-msg")))
	if !strings.Contains(msg, "経路として追加したエリア") || !strings.Contains(msg, "受付") || !strings.Contains(msg, "工場フロア") {
		t.Fatalf("the clerk was told %q", msg)
	}
	coming, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#upcoming tbody`)))
	if !strings.Contains(coming, "明日 来る") || !strings.Contains(coming, tomorrow) {
		t.Fatalf("coming visits: %q", coming)
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#visits tbody tr[data-status="registered"] button.checkin`)),
		chromedp.SetValue(chromedp.CSS(`#visits tbody tr[data-status="registered"] select.badge`), "3"),
		chromedp.Click(chromedp.CSS(`#visits tbody tr[data-status="registered"] button.checkin`)),
		chromedp.WaitVisible(chromedp.CSS(`#visits tbody tr[data-status="checked_in"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	var visits []sekisho.Visit
	ts.call("GET", "/api/visits", nil, &visits)
	var v sekisho.Visit
	for _, x := range visits {
		if x.Name == "伊藤 誠" {
			v = x
		}
	}
	if v.Status != sekisho.VisitCheckedIn || strings.Join(v.Zones, ",") != "lobby,floor,die-press" {
		t.Fatalf("the visit: %+v", v)
	}

	// On the muster list from the check-in, before any door.
	var m struct {
		Count  int
		People []struct {
			PersonID string `json:"person_id"`
			Where    string `json:"where"`
		}
	}
	ts.call("GET", "/api/muster", nil, &m)
	found := false
	for _, p := range m.People {
		found = found || (p.PersonID == v.PersonID && p.Where == "desk")
	}
	if !found || m.Count != len(m.People) {
		t.Fatalf("muster: %+v", m)
	}
	err = chromedp.Do(ctx, chromedp.Navigate(ts.base+"/muster"), chromedp.WaitVisible(chromedp.CSS(`#muster tbody tr[data-where="desk"]`)))
	if err != nil {
		t.Fatal(err)
	}
	row, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#muster tbody tr[data-where="desk"]`)))
	if !strings.Contains(row, "伊藤 誠") || !strings.Contains(row, "受付") || !strings.Contains(row, "来訪者") {
		t.Fatalf("the muster row: %q", row)
	}

	// Through the floor door, and into the press once the covers are confirmed.
	ts.swipe("r-floor-out", 200, 3)
	floor := await(t, live, "the floor door", func(ev event.Event) bool {
		return ev.Door == "floor-door" && ev.Credential != nil && ev.Credential.Number == 3
	})
	if floor.Type != event.AccessGranted {
		t.Fatalf("the floor door: %s %s", floor.Type, floor.Reason)
	}
	ts.swipe("r-press-out", 200, 3)
	press := await(t, live, "the press door", func(ev event.Event) bool {
		return ev.Door == "press-door" && ev.Credential != nil && ev.Credential.Number == 3
	})
	if press.Reason != event.ReasonCoverCheckPending {
		t.Fatalf("the press door before the covers: %s %s", press.Type, press.Reason)
	}
	if code := ts.call("POST", "/api/visits/"+v.ID+"/covers/confirm", map[string]any{"zone": "die-press"}, nil); code != http.StatusOK {
		t.Fatalf("covers: %d", code)
	}
	// Sato, a press operator, badges first and escorts the visitor in.
	ts.swipe("r-press-out", 12, 345)
	ts.swipe("r-press-out", 200, 3)
	in := await(t, live, "the press door after the covers", func(ev event.Event) bool {
		return ev.Door == "press-door" && ev.Credential != nil && ev.Credential.Number == 3 && ev.Seq > press.Seq
	})
	if in.Type != event.AccessGranted {
		t.Fatalf("the press door after the covers: %s %s", in.Type, in.Reason)
	}

	// The visitor log's row names the door that said no, and why.
	var report struct {
		Rows []struct {
			ID       string
			Refusals []struct{ Door, Reason string }
		}
	}
	if code := ts.call("GET", "/api/reports/visitors", nil, &report); code != http.StatusOK {
		t.Fatalf("visitor log: %d", code)
	}
	rows := 0
	for _, r := range report.Rows {
		if r.ID != v.ID {
			continue
		}
		rows++
		if len(r.Refusals) != 1 || r.Refusals[0].Door != "press-door" || r.Refusals[0].Reason != event.ReasonCoverCheckPending {
			t.Fatalf("the row's refusals: %+v", r.Refusals)
		}
	}
	if rows != 1 {
		t.Fatalf("the visit has %d rows in the visitor log", rows)
	}
}
