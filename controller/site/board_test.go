package site_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/testtool"
)

// browser starts Debian's Chromium headless, fenced off from the network
// (FIELD-NOTES: without these flags it floods a closed network and stalls).
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testtool.Need(t, "chromium", "chromium-browser", "google-chrome")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// The browser's day is never the site's: a page that takes "today"
		// or the hour from the browser fails here at any time of day.
		chromedp.Env("TZ=" + otherDayZone(t, time.Now())),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	return ctx
}

// otherDayZone is a time zone whose date differs from the demo site's at
// now. The site is Asia/Tokyo (+9): 12 hours behind UTC is another day
// until 21:00 there, 14 ahead from 19:00 on.
func otherDayZone(t *testing.T, now time.Time) string {
	t.Helper()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, zone := range []string{"Etc/GMT+12", "Pacific/Kiritimati"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		if now.In(loc).Format(time.DateOnly) != now.In(cfg.Location).Format(time.DateOnly) {
			return zone
		}
	}
	t.Fatalf("no zone has another day than %s at %s", cfg.Location, now)
	return ""
}

// logIn signs a dashboard user in and waits for the board.
func (ts *testSite) logIn(ctx context.Context, t *testing.T, name, password string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/login"),
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS(`#doors .door`)),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// guardAtBoard signs the guard yamada in on a fresh browser and gives the
// test a minute for its steps; a failing test leaves a screenshot.
func (ts *testSite) guardAtBoard(t *testing.T) context.Context {
	t.Helper()
	if err := ts.Store.CreateUser(context.Background(), "yamada", "guard", nil, "shift-a-2026"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(browser(t), 60*time.Second)
	t.Cleanup(func() { shoot(t, ctx); cancel() })
	ts.logIn(ctx, t, "yamada", "shift-a-2026")
	return ctx
}

// shoot saves what the guard would have seen when a browser test fails.
func shoot(t *testing.T, ctx context.Context) {
	if !t.Failed() {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	dir := os.Getenv("SEKISHO_SCREENSHOTS")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		t.Logf("screenshot of the failing page: %s", path)
	}
}

func TestBoardShowsSwipeWithoutReload(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	if err := ts.Store.CreateUser(context.Background(), "yamada", "guard", nil, "shift-a-2026"); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	defer shoot(t, ctx)

	granted := chromedp.CSS(`#events tbody tr[data-type="access.granted"]`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-button")), // no session: sent to the login page
		chromedp.SendKeys(chromedp.ID("name"), "yamada"),
		chromedp.SendKeys(chromedp.ID("password"), "shift-a-2026"),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS(`#doors .door[data-door="press-door"]`)),
		// The simulator is folded away until someone opens it.
		chromedp.Click(chromedp.CSS(`#sim-panel > summary`)),
		chromedp.WaitVisible(chromedp.ID("swipe-button")),
	)
	if err != nil {
		t.Fatal(err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("me")))
	if err != nil {
		t.Fatal(err)
	}
	// A mark on the page: if the page reloads, it is gone.
	err = chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`window.sekishoMark = "still here"`)(ctx, tg)
			return err
		}),
		chromedp.SetValue(chromedp.ID("swipe-reader"), "r-floor-out"),
		chromedp.SetValue(chromedp.ID("swipe-facility"), "12"),
		chromedp.SetValue(chromedp.ID("swipe-number"), "345"),
		chromedp.Click(chromedp.ID("swipe-button")),
		chromedp.WaitVisible(granted),
	)
	if err != nil {
		t.Fatal(err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(granted))
	if err != nil {
		t.Fatal(err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.sekishoMark`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(who, "yamada") {
		t.Errorf("board shows user %q", who)
	}
	if marker != "still here" {
		t.Errorf("the page reloaded (mark %q)", marker)
	}
	if !strings.Contains(row, "Sato") || !strings.Contains(row, "工場入口") {
		t.Errorf("new row %q: want Sato at 工場入口", row)
	}
	// The time is the site's wall clock, though the browser is in another zone.
	var logged []eventT
	if code := ts.call("GET", "/api/events?type=access.granted&limit=1", nil, &logged); code != 200 || len(logged) != 1 {
		t.Fatalf("logged grant: %d %v", code, logged)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#events tbody tr[data-type="access.granted"] td`)))
	if want := logged[0].Time.In(ts.Config.Location).Format("15:04:05"); err != nil || shown != want {
		t.Errorf("board time %q (%v), want the site's %s", shown, err, want)
	}

	// The board speaks Japanese and English, switched without a reload.
	result := chromedp.Text(chromedp.CSS(`#events tbody tr[data-type="access.granted"] .what`))
	want := map[string]string{"ja": "許可", "en": "Granted"}
	pageLang := func() string {
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil {
			t.Fatal(err)
		}
		return lang
	}
	for range 2 {
		lang := pageLang()
		// The rows are drawn again in the new language as the page
		// applies it: wait for that, not for a fixed time.
		var got string
		testtool.WaitFor(t, 10*time.Second, "the result in "+lang, func() bool {
			got, err = chromedp.Run(ctx, result)
			return err == nil && got == want[lang]
		})
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-toggle"))); err != nil {
			t.Fatal(err)
		}
		testtool.WaitFor(t, 10*time.Second, "the language toggled from "+lang, func() bool { return pageLang() != lang })
	}
}

func TestBoardNeedsLogin(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	res, err := noRedirect.Get(ts.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 || res.Header.Get("Location") != "/login" {
		t.Fatalf("GET / without session: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for _, path := range []string{"/api/doors", "/api/events", "/api/stream", "/api/people"} {
		res, err := noRedirect.Get(ts.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("%s without token: %d", path, res.StatusCode)
		}
	}
}

func TestBoardAlarmsAndMuster(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := ts.guardAtBoard(t)
	// Somebody forces the development room door.
	door := ts.Sim.Door("dev-door")
	door.SetOpen(context.Background(), true)
	alarm := chromedp.CSS(`#alarms .alarm-item button.ack`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(alarm), chromedp.Click(alarm),
		chromedp.WaitNotPresent(alarm)); err != nil {
		t.Fatal(err)
	}
	alarms, _ := ts.Store.OpenAlarms(context.Background())
	if len(alarms) != 1 || alarms[0].AckedBy != "yamada" || alarms[0].Kind != "forced" {
		t.Fatalf("alarms after the guard's ack: %+v", alarms)
	}
	door.SetOpen(context.Background(), false)
	waitFor(t, "the alarm to clear with the door", func() bool {
		a, _ := ts.Store.OpenAlarms(context.Background())
		return len(a) == 0
	})

	// Sato goes onto the floor; the muster list has him.
	ts.swipe("r-floor-out", 12, 345)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#zones li[data-zone="floor"]`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.base+"/muster"), chromedp.WaitVisible(chromedp.CSS(`#muster tbody tr`))); err != nil {
		t.Fatal(err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#muster tbody tr`)))
	// The zone and the last door by the names the config gives them.
	if err != nil || !strings.Contains(row, "Sato") || !strings.Contains(row, "工場フロア") || !strings.Contains(row, "工場入口") {
		t.Fatalf("muster row %q (%v)", row, err)
	}
}

// A restricted entry on the board carries the camera's still, and the name
// Frigate recognised beside it (red: not the card's holder); a click opens
// the still full size in the page, naming them too.
func TestBoardShowsTheStillOfARestrictedEntry(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "", func(cfg *config.Config) { cfg.Frigate.Recognition.Window = 3 * time.Second })
	ctx := ts.guardAtBoard(t)
	live := ts.stream()
	awaitSubscriber(t, live, publisher(t, ts.MQTTURL()))
	ts.swipe("r-press-out", 12, 345) // Sato, a press operator, on the demo's simulated camera
	grant := await(t, live, "Sato's grant", isType(event.AccessGranted, nil))
	publishFace(t, ts.MQTTURL(), "Tanaka Jiro", 0.92, grant.Time)
	thumb := `#events tbody tr[data-type="access.granted"] td.cam a.still img`
	name := `#events tbody tr[data-type="access.granted"] td.cam .recognized.mismatch`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(thumb)), chromedp.WaitVisible(chromedp.CSS(name))); err != nil {
		t.Fatal(err)
	}
	if said, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(name))); err != nil || !strings.Contains(said, "Tanaka Jiro 0.92") {
		t.Fatalf("the name beside the entry: %q (%v)", said, err)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
		const img = document.querySelector(`+"`"+thumb+"`"+`);
		if (!img.complete) await new Promise(r => img.addEventListener("load", r, { once: true }));
		return img.naturalWidth;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || width != 320 {
		t.Fatalf("the thumbnail did not load the still: width %d, %v", width, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#events tbody tr[data-type="access.granted"] td.cam a.still`)),
		chromedp.WaitVisible(chromedp.CSS(`#still-view[open] img`)),
	); err != nil {
		t.Fatal(err)
	}
	// The full-size still says when, where and who, beside its camera and hash.
	caption, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#still-view figcaption span`)))
	if err != nil || !strings.Contains(caption, "プレスエリア扉") || !strings.Contains(caption, "Sato") || !strings.Contains(caption, "SHA-256") ||
		!strings.Contains(caption, "Tanaka Jiro") ||
		!regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`).MatchString(caption) {
		t.Fatalf("full-size still's caption %q (%v)", caption, err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#events tbody tr:is([data-type="camera.snapshot"], [data-type="camera.recognized"])').length`))
	if err != nil || rows != 0 {
		t.Fatalf("camera events got rows of their own: %d %v", rows, err)
	}
}

// language has the dashboard speak lang from the next page loaded.
func language(lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](`localStorage.setItem("sekisho.lang", "`+lang+`")`)(ctx, tg)
		return err
	})
}
