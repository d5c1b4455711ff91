package site_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
)

// twelveDoors grows the demo to a dozen doors, as a larger plant has.
func twelveDoors(cfg *config.Config) {
	base := cfg.Doors[1] // the floor door: lobby to floor
	for i := range 8 {
		d := base
		d.ID, d.Name = fmt.Sprintf("bay-%d", i+1), fmt.Sprintf("Bay %d", i+1)
		d.Readers.Outside, d.Readers.Inside = fmt.Sprintf("r-bay-%d-out", i+1), fmt.Sprintf("r-bay-%d-in", i+1)
		d.Slot = ""
		cfg.Doors = append(cfg.Doors, d)
	}
}

// The guard's first screen at 1366×768, in both languages: every one of a
// dozen doors, both open alarms and the newest entry, without scrolling;
// the simulator is folded away; accounts and audits stay off the board.
func TestBoardFirstScreenHoldsEveryDoor(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "", twelveDoors)
	if len(ts.Config.Doors) != 12 {
		t.Fatalf("%d doors", len(ts.Config.Doors))
	}
	live := ts.stream()
	ts.call("POST", "/api/sim/doors/dev-door/contact", map[string]any{"open": true}, nil)
	ts.call("POST", "/api/sim/doors/press-door/contact", map[string]any{"open": true}, nil)
	if code := ts.call("POST", "/api/people", map[string]any{"name": "New Hire", "kind": "employee", "levels": []string{"staff"}}, nil); code != http.StatusCreated {
		t.Fatalf("person: %d", code)
	}
	ts.swipe("r-floor-out", 12, 345)
	await(t, live, "the grant", func(ev event.Event) bool { return ev.Type == event.AccessGranted })
	ctx := ts.guardAtBoard(t)
	for _, lang := range []string{"ja", "en"} {
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(1366, 768),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Evaluate[any](`localStorage.setItem("sekisho.lang", "`+lang+`")`)(ctx, tg)
				return err
			}),
			chromedp.Navigate(ts.base+"/"),
			chromedp.WaitVisible(chromedp.CSS(`#events tbody tr[data-type="access.granted"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#alarms .alarm-item + .alarm-item`)),
			chromedp.WaitVisible(chromedp.CSS(`#doors .door[data-door="bay-8"]`)),
		)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			const below = el => el.getBoundingClientRect().bottom > innerHeight || el.getBoundingClientRect().right > innerWidth;
			const out = [];
			document.querySelectorAll("#doors .door").forEach(d => below(d) && out.push("door " + d.dataset.door));
			document.querySelectorAll("#alarms .alarm-item").forEach(a => below(a) && out.push("alarm " + a.dataset.alarm));
			const first = document.querySelector("#events tbody tr");
			if (below(first)) out.push("the newest entry");
			if (document.querySelector("#sim-panel").open) out.push("the simulator is open");
			if (scrollY !== 0) out.push("the page scrolled");
			return out;
		})()`))
		if err != nil || len(out) != 0 {
			t.Errorf("%s: off the first screen: %v %v", lang, out, err)
		}
		types, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#events tbody tr")].map(r => r.dataset.type)`))
		for _, typ := range types {
			if strings.HasPrefix(typ, "person.") || strings.HasPrefix(typ, "auth.") || strings.HasPrefix(typ, "token.") || strings.HasPrefix(typ, "audit.") {
				t.Errorf("%s: %s on the guard's board", lang, typ)
			}
		}
		where, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#events tbody tr[data-type="access.granted"] td:nth-child(2)`)))
		if strings.Contains(where, "(→)") || !strings.Contains(where, map[string]string{"ja": "入→ 工場フロア", "en": "in → "}[lang]) {
			t.Errorf("%s: where the grant went: %q", lang, where)
		}
	}
}
