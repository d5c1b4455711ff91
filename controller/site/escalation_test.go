package site_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/store"
)

// An alarm no guard acknowledges in time goes to the supervisor over MQTT
// and is marked on the board; an acknowledged one never does.
func TestUnansweredAlarmGoesToTheSupervisor(t *testing.T) {
	t.Parallel()
	ts := startSiteWith(t, func(o *site.Options) { o.EscalateEvery = 50 * time.Millisecond },
		func(cfg *config.Config) { cfg.Access.EscalateAfter = 2 * time.Second })
	alarms := subscribe(t, ts.MQTTURL(), "sekisho/hamamatsu-press/alarms")
	ctx := context.Background()

	// The development room's door is forced; a guard acknowledges at once.
	dev := ts.Sim.Door("dev-door")
	dev.SetOpen(ctx, true)
	answered := await(t, alarms, "the dev door's alarm", func(ev event.Event) bool { return ev.Type == event.AlarmRaised && ev.Door == "dev-door" })
	if code := ts.call("POST", "/api/alarms/"+answered.Alarm.ID+"/ack", nil, nil); code != http.StatusOK {
		t.Fatalf("ack: %d", code)
	}

	// Then the press door is forced, and nobody answers.
	press := ts.Sim.Door("press-door")
	press.SetOpen(ctx, true)
	unanswered := await(t, alarms, "the press door's alarm", func(ev event.Event) bool { return ev.Type == event.AlarmRaised && ev.Door == "press-door" })

	// Escalations go oldest first: had the answered alarm been escalated,
	// it would come before this one.
	up := await(t, alarms, "an escalation", func(ev event.Event) bool { return ev.Type == event.AlarmEscalated })
	if up.Alarm == nil || up.Alarm.ID != unanswered.Alarm.ID || up.Door != "press-door" || up.Detail["kind"] != "forced" || up.Detail["after"] != "2s" {
		t.Fatalf("escalated %+v (the unanswered alarm is %s)", up, unanswered.Alarm.ID)
	}

	var open []sekisho.Alarm
	ts.call("GET", "/api/alarms", nil, &open)
	for _, a := range open {
		switch a.ID {
		case unanswered.Alarm.ID:
			if a.EscalatedAt == "" {
				t.Errorf("the board does not show the escalation: %+v", a)
			}
		case answered.Alarm.ID:
			if a.EscalatedAt != "" {
				t.Errorf("an acknowledged alarm was escalated: %+v", a)
			}
		}
	}

	// The guard's board marks it; acknowledging after the escalation still
	// works, and it was escalated once.
	bctx := ts.guardAtBoard(t)
	item := `#alarms .alarm-item.escalated[data-alarm="` + unanswered.Alarm.ID + `"]`
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(item+` .escalated-note`))); err != nil {
		t.Fatal(err)
	}
	// The board redraws its alarms as the stream's backlog arrives; a click
	// in the page itself cannot land on a button just replaced.
	if clicked, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector('`+item+` button.ack'); if (b) b.click(); return !!b })()`)); err != nil || !clicked {
		t.Fatalf("acknowledge on the board: clicked %v, %v", clicked, err)
	}
	if err := chromedp.Do(bctx, chromedp.WaitNotPresent(chromedp.CSS(item+` button.ack`))); err != nil {
		t.Fatal(err)
	}
	evs, err := ts.Store.Events(ctx, store.Filter{Type: event.AlarmEscalated})
	if err != nil || len(evs) != 1 {
		t.Fatalf("escalation events: %d %v", len(evs), err)
	}
	if acked, _ := ts.Store.Events(ctx, store.Filter{Type: event.AlarmAcknowledged}); len(acked) != 2 || acked[0].Actor != "yamada" {
		t.Fatalf("acknowledgements: %+v", acked)
	}
}
