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

// Every page in both languages, at 1366×768: no word of the other
// language's dictionary on the page, and in English no Japanese at all
// but the names the config and the people file give (a door, a zone, a
// level, a person, a company).
func TestEveryPageInBothLanguages(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	if err := ts.Store.CreateUser(context.Background(), "kanri", "admin", nil, "admin-pass-2026"); err != nil {
		t.Fatal(err)
	}
	live := ts.stream()
	ts.swipe("r-floor-out", 12, 345)
	ts.swipe("r-press-out", 12, 346)
	ts.call("POST", "/api/sim/doors/dev-door/contact", map[string]any{"open": true}, nil)
	if code := ts.call("POST", "/api/visits", map[string]any{"name": "来訪 太郎", "company": "浜名ギア", "host": "p-sato", "zones": []string{"die-press"},
		"briefed_by": "desk", "phone_locker": "3", "nda_ref": "NDA-1"}, nil); code != http.StatusCreated {
		t.Fatalf("register visit: %d", code)
	}
	await(t, live, "the forced door", func(ev event.Event) bool { return ev.Type == event.DoorForced })

	// The names a page may show in any language.
	var names []string
	var doors []struct{ ID, Name string }
	var zones struct{ Zones []struct{ ID, Name string } }
	var levels struct{ Levels []struct{ Name string } }
	var people []struct{ Name, Company string }
	var health struct{ Name string }
	ts.call("GET", "/api/doors", nil, &doors)
	ts.call("GET", "/api/zones", nil, &zones)
	ts.call("GET", "/api/levels", nil, &levels)
	ts.call("GET", "/api/people", nil, &people)
	ts.call("GET", "/api/health", nil, &health)
	for _, d := range doors {
		names = append(names, d.Name, d.ID)
	}
	for _, z := range zones.Zones {
		names = append(names, z.Name, z.ID)
	}
	for _, l := range levels.Levels {
		names = append(names, l.Name)
	}
	for _, p := range people {
		names = append(names, p.Name, p.Company)
	}
	// The language switch names the other language in its own words.
	names = append(names, health.Name, "来訪 太郎", "浜名ギア", "関所", "日本語", "English")
	quoted := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" {
			quoted = append(quoted, "`"+strings.ReplaceAll(n, "`", "")+"`")
		}
	}
	js := `(() => {
		let text = document.body.innerText;
		for (const n of [` + strings.Join(quoted, ",") + `].sort((a, b) => b.length - a.length)) text = text.split(n).join(" ");
		const out = [];
		const here = new Set([...document.querySelectorAll("[data-i18n]")].map(e => e.textContent));
		for (const w of Object.values(I18N.other())) {
			if (w.length >= 4 && text.includes(w) && !here.has(w)) out.push(w);
		}
		// A date picker speaks the browser's language, not the page's.
		if (document.querySelector('input[type="date"]')) out.push("a date input in the browser's locale");
		if (I18N.lang === "en") {
			const cjk = text.match(/[\u3040-\u30ff\u4e00-\u9fff\uff00-\uffef]+/g);
			if (cjk) out.push(...cjk);
		}
		return [...new Set(out)];
	})()`

	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	defer shoot(t, ctx)
	ts.logIn(ctx, t, "kanri", "admin-pass-2026")
	pages := []struct{ path, ready string }{
		{"/", `#events tbody tr[data-type="door.forced"]`},
		{"/desk", `#visits tbody tr`},
		{"/report", `#report tbody tr`},
		{"/log", `#log tbody tr`},
		{"/muster", `#muster tbody tr`},
		{"/people", `#people tbody tr span.card`},
	}
	for _, lang := range []string{"ja", "en"} {
		for _, page := range pages {
			err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), language(lang), chromedp.Navigate(ts.base+page.path),
				chromedp.WaitVisible(chromedp.CSS(page.ready)), chromedp.WaitVisible(chromedp.ID("me")))
			if err != nil {
				t.Fatalf("%s %s: %v", lang, page.path, err)
			}
			wrong, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
			if err != nil {
				t.Fatalf("%s %s: %v", lang, page.path, err)
			}
			if len(wrong) > 0 {
				t.Errorf("%s %s: the other language's words: %q", lang, page.path, wrong)
			}
		}
	}
}
