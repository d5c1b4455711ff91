package site_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/site"
)

// register makes a briefed visit for today over the API.
func (ts *testSite) register(name, company string, zones ...string) sekisho.Visit {
	ts.t.Helper()
	var v sekisho.Visit
	if code := ts.call("POST", "/api/visits", map[string]any{"name": name, "company": company, "host": "p-sato",
		"zones": zones, "briefed_by": "desk", "nda_ref": "NDA-1"}, &v); code != http.StatusCreated {
		ts.t.Fatalf("register %s: %d", name, code)
	}
	return v
}

// The desk's mistakes: each is a 4xx with a reason word the desk translates,
// and none of them writes half a visit.
func TestDeskBadInput(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := context.Background()
	inside := ts.register("Already In", "Hamana Gear", "lobby")
	if code := ts.call("POST", "/api/visits/"+inside.ID+"/checkin", map[string]any{"card": 3}, nil); code != http.StatusOK {
		t.Fatalf("check in: %d", code)
	}
	waiting := ts.register("Waiting", "Hamana Gear", "lobby")
	var unbriefed sekisho.Visit
	ts.call("POST", "/api/visits", map[string]any{"name": "Unbriefed", "company": "X", "host": "p-sato"}, &unbriefed)
	tomorrow := time.Now().In(ts.Config.Location).AddDate(0, 0, 1).Format("2006-01-02")
	var future sekisho.Visit
	ts.call("POST", "/api/visits", map[string]any{"name": "Tomorrow", "company": "X", "host": "p-sato", "date": tomorrow, "briefed_by": "desk"}, &future)
	yesterday := time.Now().In(ts.Config.Location).AddDate(0, 0, -1).Format("2006-01-02")
	before, _ := ts.Store.SearchVisits(ctx, sekisho.VisitQuery{})

	tests := []struct {
		name, method, path, body string
		status                   int
		code, detail             string
	}{
		{"no name", "POST", "/api/visits", `{"company":"X","host":"p-sato"}`, 400, "invalid_visit", "name is missing"},
		{"no company", "POST", "/api/visits", `{"name":"A","host":"p-sato"}`, 400, "invalid_visit", "company is missing"},
		{"host not on file", "POST", "/api/visits", `{"name":"A","company":"X","host":"p-ghost"}`, 400, "invalid_visit", "not an employee"},
		{"visitor as host", "POST", "/api/visits", `{"name":"A","company":"X","host":"` + inside.PersonID + `"}`, 400, "invalid_visit", "not an employee"},
		{"date in the past", "POST", "/api/visits", `{"name":"A","company":"X","host":"p-sato","date":"` + yesterday + `"}`, 400, "invalid_visit", "in the past"},
		{"date not a date", "POST", "/api/visits", `{"name":"A","company":"X","host":"p-sato","date":"next week"}`, 400, "invalid_visit", "YYYY-MM-DD"},
		{"unknown zone", "POST", "/api/visits", `{"name":"A","company":"X","host":"p-sato","zones":["vault"]}`, 400, "invalid_visit", "no zone vault"},
		{"no-phones zone without locker", "POST", "/api/visits", `{"name":"A","company":"X","host":"p-sato","zones":["die-press"]}`, 400, "invalid_visit", "phone locker"},
		{"badge bound to another visit", "POST", "/api/visits/" + waiting.ID + "/checkin", `{"card":3}`, 409, "in_use", "3"},
		{"badge not from the pool", "POST", "/api/visits/" + waiting.ID + "/checkin", `{"card":999}`, 409, "not_a_day_badge", "999"},
		{"no badge given", "POST", "/api/visits/" + waiting.ID + "/checkin", `{}`, 400, "invalid_checkin", "card"},
		{"not briefed", "POST", "/api/visits/" + unbriefed.ID + "/checkin", `{"card":4}`, 409, "briefing_missing", "briefed"},
		{"not today", "POST", "/api/visits/" + future.ID + "/checkin", `{"card":4}`, 409, "not_today", tomorrow},
		{"checked in twice", "POST", "/api/visits/" + inside.ID + "/checkin", `{"card":5}`, 409, "conflict", "checked_in"},
		{"check-out of someone not in", "POST", "/api/visits/" + waiting.ID + "/checkout", ``, 409, "not_checked_in", "registered"},
		{"check-out of no visit", "POST", "/api/visits/v-none/checkout", ``, 404, "not_found", "v-none"},
		{"search with a bad date", "GET", "/api/visits/search?from=monday", ``, 400, "bad_parameter", "YYYY-MM-DD"},
		{"report of a bad day", "GET", "/api/reports/visitors?date=2026-13-01", ``, 400, "bad_parameter", "YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, detail := ts.refusal(t, tt.method, tt.path, tt.body, "")
			if status != tt.status || code != tt.code || !strings.Contains(detail, tt.detail) {
				t.Fatalf("got %d %q (%s), want %d %q saying %q", status, code, detail, tt.status, tt.code, tt.detail)
			}
		})
	}
	after, _ := ts.Store.SearchVisits(ctx, sekisho.VisitQuery{})
	if len(after) != len(before) {
		t.Fatalf("refused requests wrote visits: %d before, %d after", len(before), len(after))
	}
	for _, v := range after {
		if v.ID == waiting.ID && (v.Status != sekisho.VisitRegistered || v.Card != nil) {
			t.Fatalf("a refused check-in changed the visit: %+v", v)
		}
	}
}

// What the desk wrote stays written: no visit is deleted or edited, and a
// visit only moves forward.
func TestVisitorLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := context.Background()
	v := ts.register("Kept", "Hamana Gear", "lobby")
	if code := ts.call("POST", "/api/visits/"+v.ID+"/checkin", map[string]any{"card": 9}, nil); code != http.StatusOK {
		t.Fatalf("check in: %d", code)
	}
	if err := ts.Store.ConfirmCovers(ctx, v.ID, "floor", nil, "guard"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`DELETE FROM visits WHERE id = '` + v.ID + `'`,
		`UPDATE visits SET company = 'Someone Else' WHERE id = '` + v.ID + `'`,
		`UPDATE visits SET nda_ref = 'NDA-FORGED' WHERE id = '` + v.ID + `'`,
		`UPDATE visits SET status = 'registered' WHERE id = '` + v.ID + `'`,
		`UPDATE visits SET checked_in = '2020-01-01T00:00:00Z' WHERE id = '` + v.ID + `'`,
		`DELETE FROM visit_covers`,
		`UPDATE visit_covers SET confirmed_by = 'nobody'`,
	} {
		if _, err := ts.Store.DB().ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", stmt, err)
		}
	}
	if code := ts.call("POST", "/api/visits/"+v.ID+"/checkout", nil, nil); code != http.StatusOK {
		t.Fatalf("check out still works: %d", code)
	}
	got, _ := ts.Store.GetVisit(ctx, v.ID)
	if got.Company != "Hamana Gear" || got.Status != sekisho.VisitCheckedOut || got.CheckedIn == "" {
		t.Fatalf("visit after the attempts: %+v", got)
	}
}

func optionsOverstay(o *site.Options) { o.OverstayEvery = 50 * time.Millisecond }

// A visitor still in after the overstay time is an alarm naming the badge
// that has not come back; one who left is not.
func TestOverstayAlarm(t *testing.T) {
	t.Parallel()
	// The site's day stands at 10:00 until the test moves it past the
	// overstay time at 18:00: the desk's check runs every 50 ms, and on a
	// busy machine it would otherwise see the first visitor between her
	// check-in and check-out.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	y, m, d := time.Now().In(tokyo).Date()
	var ahead atomic.Int64
	ts := startSiteWith(t, func(o *site.Options) {
		optionsOverstay(o)
		o.Now = func() time.Time { return time.Date(y, m, d, 10, 0, 0, 0, tokyo).Add(time.Duration(ahead.Load())) }
	}, func(cfg *config.Config) { cfg.VisitorCards.OverstayAt = "18:00" })
	live := ts.stream()
	left := ts.register("Went Home", "Hamana Gear", "lobby")
	ts.call("POST", "/api/visits/"+left.ID+"/checkin", map[string]any{"card": 11}, nil)
	ts.call("POST", "/api/visits/"+left.ID+"/checkout", nil, nil)
	stays := ts.register("Stays Late", "Hamana Gear", "lobby")
	if code := ts.call("POST", "/api/visits/"+stays.ID+"/checkin", map[string]any{"card": 12}, nil); code != http.StatusOK {
		t.Fatalf("check in: %d", code)
	}
	ahead.Store(int64(9 * time.Hour)) // 19:00
	ev := await(t, live, "overstay alarm", func(ev event.Event) bool { return ev.Type == event.AlarmRaised && ev.Detail["kind"] == "overstay" })
	if !strings.Contains(ev.Detail["detail"], "Stays Late") || !strings.Contains(ev.Detail["detail"], "badge 12 not returned") {
		t.Fatalf("overstay alarm: %v", ev.Detail)
	}
	var alarms []sekisho.Alarm
	waitFor(t, "the overstay alarm in the alarms table", func() bool {
		var err error
		if alarms, err = ts.Store.OpenAlarms(context.Background()); err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(alarms, func(a sekisho.Alarm) bool { return a.Kind == "overstay" })
	})
	n := 0
	for _, a := range alarms {
		if a.Kind == "overstay" {
			n++
			if a.PersonID != stays.PersonID {
				t.Fatalf("overstay raised for %s", a.PersonID)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d overstay alarms, want one", n)
	}
}
