package site_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/event"
)

// A filled day in the press area, drawn by the manager's log page in
// Chromium at 1366×768: one bar per entry, from the entry to the person's
// next exit (or open, with no exit on record), exactly as the API's events
// say; a bar clicked shows its entry; the alarm is a mark.
func TestTimelineDrawsTheAPIsEntries(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	if err := ts.Store.CreateUser(context.Background(), "kanri", "manager", nil, "manager-pass-2026"); err != nil {
		t.Fatal(err)
	}
	// Yesterday in the site's days, from eight: 70 people, three entries
	// each, 210 entries, each left 40 s later, but a fifth of the people
	// never badge out of their last.
	kinds := []string{"employee", "contractor", "visitor"}
	now := time.Now().In(ts.Config.Location)
	day := now.AddDate(0, 0, -1).Format(time.DateOnly)
	midnight, _ := time.ParseInLocation(time.DateOnly, day, ts.Config.Location)
	base := midnight.Add(8 * time.Hour)
	type pass struct {
		at  time.Time
		out bool
		p   int
	}
	var passes []pass
	for p := range 70 {
		for j := range 3 {
			in := base.Add(time.Duration(p*3+j) * 80 * time.Second)
			passes = append(passes, pass{in, false, p})
			if !(j == 2 && p%5 == 0) {
				passes = append(passes, pass{in.Add(40 * time.Second), true, p})
			}
		}
	}
	for i := range passes {
		for j := i + 1; j < len(passes); j++ {
			if passes[j].at.Before(passes[i].at) {
				passes[i], passes[j] = passes[j], passes[i]
			}
		}
	}
	for _, ps := range passes {
		k := kinds[ps.p%3]
		ev := &event.Event{Type: event.AccessGranted, Time: ps.at, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press",
			Person: &event.Person{ID: fmt.Sprintf("p-%03d", ps.p), Name: fmt.Sprintf("人 %03d", ps.p), Kind: k, Company: map[string]string{"contractor": "浜松設備", "visitor": "トヨー自動車"}[k]}}
		if k == "visitor" {
			ev.Visit = fmt.Sprintf("visit-%03d", ps.p)
		}
		if ps.out {
			ev.ZoneFrom, ev.ZoneTo = "die-press", "floor"
		}
		if err := ts.Store.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Store.Append(context.Background(), &event.Event{Type: event.AlarmRaised, Time: base.Add(time.Hour), Door: "press-door",
		Detail: map[string]string{"kind": "tailgating", "detail": "two through, one card"}}); err != nil {
		t.Fatal(err)
	}

	// What the API says: each entry ends at its person's next exit.
	q := url.Values{"type": {"access."}, "zone": {"die-press"}, "since": {day}, "until": {now.Format(time.DateOnly)}, "limit": {"1000"}}
	var evs []event.Event
	if code := ts.call("GET", "/api/events?"+q.Encode(), nil, &evs); code != 200 {
		t.Fatalf("events: %d", code)
	}
	want := map[int64]string{} // entry seq → its exit time, "" when open
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Type != event.AccessGranted || e.ZoneTo != "die-press" {
			continue
		}
		want[e.Seq] = ""
		for j := i - 1; j >= 0; j-- {
			if x := evs[j]; x.Type == event.AccessGranted && x.ZoneFrom == "die-press" && x.Person.ID == e.Person.ID {
				want[e.Seq] = x.Time.UTC().Format(time.RFC3339Nano)
				break
			}
		}
	}
	if len(want) < 200 {
		t.Fatalf("only %d entries from the API", len(want))
	}

	ctx, cancel := context.WithTimeout(browser(t), 90*time.Second)
	defer cancel()
	defer shoot(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatal(err)
	}
	ts.logIn(ctx, t, "kanri", "manager-pass-2026")
	err := chromedp.Do(ctx, chromedp.Navigate(ts.base+"/log"), chromedp.WaitVisible(chromedp.CSS(`#tl svg`)),
		chromedp.SetValue(chromedp.ID("l-from"), day), chromedp.SetValue(chromedp.ID("l-to"), day),
		chromedp.Click(chromedp.ID("l-go")), chromedp.WaitVisible(chromedp.CSS(`#tl svg rect.bar`)))
	if err != nil {
		t.Fatal(err)
	}
	type bar struct {
		Seq   int64  `json:"seq"`
		Start string `json:"start"`
		End   string `json:"end"`
		Open  bool   `json:"open"`
		Kind  string `json:"kind"`
	}
	type drawn struct {
		Bars  []bar   `json:"bars"`
		Marks int     `json:"marks"`
		Width float64 `json:"width"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[drawn](`({
		bars: [...document.querySelectorAll("#tl rect.bar")].map(r => ({seq: +r.dataset.seq, start: r.dataset.start, end: r.dataset.end,
			open: r.classList.contains("open"), kind: [...r.classList].find(c => c.startsWith("kind-"))})),
		marks: document.querySelectorAll("#tl .alarm-mark").length,
		width: document.querySelector("#tl svg").getBoundingClientRect().right,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Bars) != len(want) {
		t.Fatalf("%d bars drawn, %d entries in the API", len(got.Bars), len(want))
	}
	open, byKind := 0, map[string]int{}
	for _, b := range got.Bars {
		exit, ok := want[b.Seq]
		if !ok {
			t.Fatalf("bar for seq %d, which is no entry", b.Seq)
		}
		end, _ := time.Parse(time.RFC3339Nano, b.End)
		wantEnd, _ := time.Parse(time.RFC3339Nano, exit)
		switch {
		case exit == "" && !b.Open:
			t.Errorf("seq %d: no exit on record, yet the bar is closed at %s", b.Seq, b.End)
		case exit != "" && (b.Open || !end.Equal(wantEnd)):
			t.Errorf("seq %d: bar ends %s (open %v), the exit is %s", b.Seq, b.End, b.Open, exit)
		}
		if b.Open {
			open++
		}
		byKind[b.Kind]++
	}
	if open != 14 || byKind["kind-visitor"] != 69 || byKind["kind-contractor"] != 69 || byKind["kind-employee"] != 72 {
		t.Errorf("%d open bars, kinds %v", open, byKind)
	}
	if got.Marks != 1 || got.Width > 1366 {
		t.Errorf("%d alarm marks, timeline ends at %.0f px", got.Marks, got.Width)
	}
	seq := got.Bars[5].Seq
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tl rect.bar[data-seq="%d"]`, seq))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#tl-detail[data-seq="%d"]`, seq))),
	)
	if err != nil {
		t.Fatal(err)
	}
}
