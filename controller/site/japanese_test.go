package site_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/event"
)

// rawWords finds an event type or other machine word left on a page.
const rawWords = `/\b(access|door|alarm|visitor|camera|audit|system|lockdown|person|credential|bridge)\.[a-z_]+\b|\b(employee|contractor|unknown_credential|not_authorized|bad_frame|token-\d+)\b/`

// A guard's and a manager's day in Japanese, on a 1366×768 screen: every
// page speaks Japanese (no untranslated key, no raw event type, kind or
// id), the head count is on screen beside the simulator, a door's
// mechanics fold under the entry that caused them, and every page says who
// is signed in and offers logout. A guard's navigation leaves out the
// managers' pages, and one opened anyway says so in Japanese.
func TestEveryPageInJapanese(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	for _, u := range [][3]string{{"kanri", "admin", "admin-pass-2026"}, {"yamada", "guard", "shift-a-2026"}} {
		if err := ts.Store.CreateUser(context.Background(), u[0], u[1], nil, u[2]); err != nil {
			t.Fatal(err)
		}
	}
	live := ts.stream()
	// A morning's variety: a grant, refusals, a bad read, a forced door, a
	// tamper, a visitor registered.
	ts.swipe("r-floor-out", 12, 345)
	ts.swipe("r-press-out", 12, 346)
	ts.swipe("r-floor-out", 99, 9999)
	ts.call("POST", "/api/sim/readers/r-dev-out/wiegand", map[string]any{"bits": "10101010101010101010101011"}, nil)
	ts.call("POST", "/api/sim/doors/dev-door/contact", map[string]any{"open": true}, nil)
	ts.call("POST", "/api/sim/doors/dev-door/contact", map[string]any{"open": false}, nil)
	ts.call("POST", "/api/sim/doors/press-door/tamper", map[string]any{"tampered": true}, nil)
	if code := ts.call("POST", "/api/visits", map[string]any{"name": "来訪 太郎", "company": "浜名ギア", "host": "p-sato", "zones": []string{"lobby"}, "briefed_by": "desk"}, nil); code != http.StatusCreated {
		t.Fatalf("register visit: %d", code)
	}
	await(t, live, "the tamper", func(ev event.Event) bool { return ev.Type == event.DoorTamper })

	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	defer shoot(t, ctx)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(ts.base+"/login"),
		chromedp.WaitVisible(chromedp.ID("login-button")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`localStorage.setItem("sekisho.lang", "ja")`)(ctx, tg)
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ts.logIn(ctx, t, "kanri", "admin-pass-2026")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#events tbody tr[data-type="door.tamper"]`))); err != nil {
		t.Fatal(err)
	}
	check := func(page string) {
		t.Helper()
		var problems []string
		eval := func(js string) string {
			t.Helper()
			out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
			if err != nil {
				t.Fatalf("%s: %v", page, err)
			}
			return out
		}
		if m := eval(`[...I18N.missing].join(", ")`); m != "" {
			problems = append(problems, "untranslated keys: "+m)
		}
		if raw := eval(`(document.body.innerText.match(` + rawWords + `g) || []).join(", ")`); raw != "" {
			problems = append(problems, "raw words: "+raw)
		}
		if who := eval(`(document.querySelector("#me") || {}).textContent || ""`); !strings.Contains(who, "kanri") && !strings.Contains(who, "yamada") {
			problems = append(problems, "no one signed in shown: "+who)
		}
		if eval(`document.querySelector("#logout") ? "yes" : ""`) == "" {
			problems = append(problems, "no logout")
		}
		if len(problems) > 0 {
			t.Errorf("%s: %s", page, strings.Join(problems, "; "))
		}
	}

	check("board")
	inView, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#zones").getBoundingClientRect().bottom <= innerHeight && !document.querySelector("#sim").hidden`))
	if !inView {
		t.Error("board: the head count is not on a 1366×768 screen beside the simulator")
	}
	loose, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#events tbody tr[data-type="door.unlocked"]:not(.mech)').length`))
	if loose != 0 {
		t.Errorf("board: %d unlocks stand on their own instead of under their grant", loose)
	}
	// The grant's mechanics open under it.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#events tbody tr[data-type="access.granted"] button.more`)),
		chromedp.WaitVisible(chromedp.CSS(`#events tbody tr.mech[data-type="door.unlocked"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []struct{ path, ready string }{
		{"/desk", `#visits tbody tr`},
		{"/report", `#report tbody tr`},
		{"/log", `#log tbody tr`},
		{"/muster", `#muster tbody tr`},
		{"/people", `#people tbody tr span.card`},
		{"/assets", `#assets tbody tr[data-asset]`},
		{"/reports/customer", `#c-people tbody tr`},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(ts.base+page.path), chromedp.WaitVisible(chromedp.CSS(page.ready)), chromedp.WaitVisible(chromedp.ID("me"))); err != nil {
			t.Fatalf("%s: %v", page.path, err)
		}
		check(page.path)
	}
	// A refusal at the desk in Japanese, every problem named.
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/desk"),
		chromedp.WaitVisible(chromedp.CSS(`#v-zones input[value="die-press"]`)),
		chromedp.Click(chromedp.CSS(`#v-zones input[value="die-press"]`)),
		chromedp.Click(chromedp.ID("v-register")),
		chromedp.WaitVisible(chromedp.CSS(`#desk-msg.bad`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("desk-msg")))
	if !strings.Contains(msg, "氏名がありません") || !strings.Contains(msg, "携帯電話ロッカー") || strings.ContainsAny(msg, "abcdefghijklmnopqrstuvwxyz") {
		t.Errorf("desk refusal: %q", msg)
	}

	// The guard: no managers' pages offered; one opened anyway is refused in Japanese.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-button")))
	if err != nil {
		t.Fatal(err)
	}
	ts.logIn(ctx, t, "yamada", "shift-a-2026")
	links, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("header a[data-nav]")].map(a => a.getAttribute("href"))`))
	if strings.Contains(strings.Join(links, " "), "/log") || strings.Contains(strings.Join(links, " "), "/report") || !strings.Contains(strings.Join(links, " "), "/desk") {
		t.Errorf("guard's navigation: %v", links)
	}
	err = chromedp.Do(ctx, chromedp.Navigate(ts.base+"/log"), chromedp.WaitVisible(chromedp.CSS(`.forbidden`)))
	if err != nil {
		t.Fatal(err)
	}
	refused, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.forbidden`)))
	if !strings.Contains(refused, "管理者用") {
		t.Errorf("a guard at the managers' log is told %q", refused)
	}
	check("/log as a guard")
}
