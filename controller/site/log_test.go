package site_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/store"
)

// A press-area manager exports the press area's log: every entry with its
// still's hash, page after page, nothing of the rooms they do not answer
// for; and the export is itself in the log.
func TestManagerExportsTheirZonesLog(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := context.Background()
	ts.addCardholder("Press Operator", []string{"press-operators"}, 50, 1)
	ts.addCardholder("Developer", []string{"developers"}, 50, 2)
	live := ts.stream()
	ts.swipe("r-press-out", 50, 1)
	grant := await(t, live, "press grant", isType(event.AccessGranted, nil))
	still := await(t, live, "its still", isType(event.CameraSnapshot, func(ev event.Event) bool { return ev.Detail["for"] == grant.ID }))
	ts.swipe("r-floor-out", 50, 2) // the floor is not the press manager's
	await(t, live, "floor grant", isType(event.AccessGranted, func(ev event.Event) bool { return ev.Door == "floor-door" }))
	// A long history: the export pages through it.
	for i := range 2500 {
		if err := ts.Store.Append(ctx, &event.Event{Type: event.AccessDenied, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press",
			Reason: event.ReasonNotAuthorized, Detail: map[string]string{"n": string(rune('a' + i%26))}}); err != nil {
			t.Fatal(err)
		}
	}
	manager, _, err := ts.Store.CreateToken(ctx, "manager", []string{"die-press"}, "press manager", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", ts.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+manager)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/api/events.csv?zone=die-press")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(event.CSVHeader, ",") {
		t.Fatalf("header %q", rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var granted, stills, denied int
	for _, r := range rows[1:] {
		switch {
		case r[col["door"]] == "floor-door":
			t.Fatalf("the floor's entries leaked into the press manager's export: %q", r)
		case r[col["type"]] == event.AccessGranted && r[col["person"]] == "Press Operator":
			granted++
		case r[col["type"]] == event.CameraSnapshot:
			stills++
			if r[col["snapshot_sha256"]] != still.Camera.SnapshotSHA256 || r[col["still"]] != still.Detail["file"] {
				t.Fatalf("still row %q", r)
			}
		case r[col["type"]] == event.AccessDenied:
			denied++
		}
	}
	if granted != 1 || stills != 1 || denied != 2500 {
		t.Fatalf("export has %d grants, %d stills, %d denials; want 1, 1, 2500", granted, stills, denied)
	}
	if res, _ := get("/api/events.csv?zone=dev-room"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("export of another's zone: %d", res.StatusCode)
	}
	// The audit is held in order like any event, so the page never waits on
	// the disk: it is in the log a moment after the answer.
	var exports []event.Event
	waitFor(t, "the export's audit", func() bool {
		exports, _ = ts.Store.Events(ctx, store.Filter{Type: event.AuditExported})
		return len(exports) > 0
	})
	if len(exports) != 1 || !strings.Contains(exports[0].Actor, "press manager") || !strings.Contains(exports[0].Detail["query"], "zone=die-press") {
		t.Fatalf("the export was not logged as it happened: %+v", exports)
	}

	// The same from the command line, through the running controller.
	var out, errOut bytes.Buffer
	day := time.Now().Format("2006-01-02")
	code := cli.Run(ctx, []string{"export", "--zone", "die-press", "--type", "camera.snapshot", "--since", day, "--url", ts.base, "--token", manager}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), still.Camera.SnapshotSHA256) || strings.Count(out.String(), "\n") != 2 {
		t.Fatalf("controller export: %d %q %s", code, out.String(), errOut.String())
	}
	errOut.Reset()
	if code := cli.Run(ctx, []string{"export", "--zone", "dev-room", "--url", ts.base, "--token", manager}, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "zone_not_yours") {
		t.Fatalf("controller export of another's zone: %d %s", code, errOut.String())
	}
	// A zone the site does not have is an error naming the ones it has.
	errOut.Reset()
	if code := cli.Run(ctx, []string{"export", "--zone", "nosuch", "--url", ts.base, "--token", manager}, io.Discard, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "die-press") || !strings.Contains(errOut.String(), "nosuch") {
		t.Fatalf("export of a zone the site lacks: %d %s", code, errOut.String())
	}
	if code := cli.Run(ctx, []string{"export", "--since", "last week", "--url", ts.base, "--token", manager}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("controller export with a bad date: %d", code)
	}
}

// The manager's entry log in the browser: their zone, the lines, and the
// press camera's still beside the entry, with the face Frigate recognised.
func TestManagerEntryLogInTheBrowser(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "", func(cfg *config.Config) { cfg.Frigate.Recognition.Window = 2 * time.Second })
	if err := ts.Store.CreateUser(context.Background(), "kimura", "manager", []string{"die-press"}, "press-log-2026"); err != nil {
		t.Fatal(err)
	}
	live := ts.stream()
	awaitSubscriber(t, live, publisher(t, ts.MQTTURL()))
	ts.swipe("r-press-out", 12, 345) // Sato
	grant := await(t, live, "press grant", isType(event.AccessGranted, nil))
	publishFace(t, ts.MQTTURL(), strings.ToLower(grant.Person.Name), 0.88, grant.Time)
	await(t, live, "its still", isType(event.CameraSnapshot, func(ev event.Event) bool { return ev.Detail["for"] == grant.ID }))
	await(t, live, "the face beside it", isType(event.CameraRecognized, func(ev event.Event) bool { return ev.Detail["for"] == grant.ID }))

	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	defer shoot(t, ctx)
	ts.logIn(ctx, t, "kimura", "press-log-2026")
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/log"),
		chromedp.WaitVisible(chromedp.CSS(`#log tbody tr[data-type="access.granted"] td.cam a.still img`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	zones, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#l-zone option")].map(o => o.value)`))
	if err != nil || len(zones) != 1 || zones[0] != "die-press" {
		t.Fatalf("zones offered to the press manager: %q %v", zones, err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#log tbody tr[data-type="access.granted"] td:nth-child(3)`)))
	if err != nil || !strings.Contains(who, "Sato") {
		t.Fatalf("who went in: %q %v", who, err)
	}
	// The holder's own face: beside the entry, not marked.
	face, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(e => e ? e.className + " " + e.textContent : "none")(document.querySelector('#log tbody tr[data-type="access.granted"] td.cam .recognized'))`))
	if err != nil || !strings.Contains(face, strings.ToLower(grant.Person.Name)+" 0.88") || strings.Contains(face, "mismatch") {
		t.Fatalf("the face beside the entry: %q %v", face, err)
	}
	waitFor(t, "reading the log in the log", func() bool {
		views, _ := ts.Store.Events(context.Background(), store.Filter{Type: event.AuditViewed})
		return len(views) > 0 && views[0].Actor == "kimura"
	})
	// The whole log's tamper check is not a zone manager's; a site-wide
	// manager runs it from the page.
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("verify").hidden`))
	if err != nil || !hidden {
		t.Fatalf("the press manager is offered the site-wide check: %v", err)
	}
	if err := ts.Store.CreateUser(context.Background(), "mori", "manager", nil, "site-wide-2026"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel2 := context.WithTimeout(browser(t), 60*time.Second)
	defer cancel2()
	ts.logIn(ctx, t, "mori", "site-wide-2026")
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.base+"/log"), chromedp.WaitVisible(chromedp.CSS(`#log tbody tr`)),
		chromedp.Click(chromedp.CSS(`#v-start`)), chromedp.WaitVisible(chromedp.CSS(`#v-msg.ok`))); err != nil {
		t.Fatal(err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#v-msg`)))
	if err != nil || !(strings.Contains(verdict, "Intact") || strings.Contains(verdict, "改ざんなし")) || !strings.Contains(verdict, "1 ") {
		t.Fatalf("verify from the page: %q %v", verdict, err)
	}
}

// A manager's verify of a long log runs beside the guards' work: while it
// walks, health answers, the board reads the log and a card opens the
// press door, each seen with the walk still running before and after.
func TestBoardHealthAndDoorsAnswerWhileAVerifyWalks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), site.DBPath(dir, cfg.Site), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	spec := store.FillSpec{Events: 200_000, Days: 30, Location: cfg.Location}
	for _, d := range cfg.Doors {
		spec.Doors = append(spec.Doors, store.FillDoor{ID: d.ID, ZoneFrom: d.From, ZoneTo: d.To})
	}
	if err := st.Fill(context.Background(), spec, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ts := startSiteWith(t, func(o *site.Options) { o.DataDir = dir })
	ts.addCardholder("Op", []string{"press-operators"}, 5, 6)
	live := ts.stream()

	type state struct {
		Running     bool
		Done, Total int64
		Result      *struct {
			OK bool `json:"ok"`
		}
	}
	var walk state
	if code := ts.call("POST", "/api/verify", map[string]any{}, &walk); code != http.StatusAccepted {
		t.Fatalf("POST /api/verify: %d", code)
	}
	running := func() bool {
		var now state
		ts.call("GET", "/api/verify", nil, &now)
		return now.Running
	}
	if !running() {
		t.Fatal("the verify of a long log ended before anything was asked of the site")
	}
	res, err := http.Get(ts.base + "/api/health")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("health during a verify: %v %v", err, res)
	}
	res.Body.Close()
	var board []event.Event
	if code := ts.call("GET", "/api/events?limit=50", nil, &board); code != http.StatusOK || len(board) == 0 {
		t.Fatalf("the board's log during a verify: %d, %d events", code, len(board))
	}
	ts.swipe("r-press-out", 5, 6)
	await(t, live, "the press door opening for Op", func(ev event.Event) bool {
		return ev.Door == "press-door" && ev.Type == event.AccessGranted
	})
	if !running() {
		t.Fatal("the verify ended before the site answered: the site waited on it, or the log is too short to tell")
	}
	waitFor(t, "the verify to finish", func() bool {
		ts.call("GET", "/api/verify", nil, &walk)
		return !walk.Running && walk.Result != nil
	})
	if !walk.Result.OK || walk.Done < 200_000 {
		t.Fatalf("verify: %+v", walk)
	}
}
