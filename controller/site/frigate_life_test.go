package site_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Frigate not running is an alarm, however it stops: its will (offline),
// 0.18's word on a clean stop (stopped), or, from 0.14–0.17 that stop
// cleanly without a word and leave "online" retained, its stats ceasing.
// Running again clears it.
func TestFrigateOfflineIsAnAlarm(t *testing.T) {
	t.Parallel()
	frigate := newFakeFrigate(t)
	ts := startSite(t, "", withCameras(t, frigate), func(cfg *config.Config) { cfg.Frigate.StatsTimeout = 5 * time.Second })
	live := ts.stream()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(ts.MQTTURL()).SetClientID("frigate-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	say := func(word string) {
		t.Helper()
		if tok := c.Publish("frigate/available", 1, true, word); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	// Frigate's stats, every 200 ms while it runs.
	pump := func() (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				// Waited for, so that when stop returns every stats message
				// is at the broker, ahead of the word that follows it.
				c.Publish("frigate/stats", 0, false, `{"service":{"uptime":12,"version":"0.16.2"}}`).WaitTimeout(5 * time.Second)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
		return func() { cancel(); <-done }
	}
	alarm := func(what, why string) event.Event {
		t.Helper()
		return await(t, live, what, isType(event.AlarmRaised, func(ev event.Event) bool {
			return ev.Detail["kind"] == "frigate_offline" && strings.Contains(ev.Detail["detail"], why)
		}))
	}
	cleared := func(what string, raised event.Event) {
		t.Helper()
		ev := await(t, live, what, isType(event.AlarmCleared, func(ev event.Event) bool { return ev.Detail["kind"] == "frigate_offline" }))
		if ev.Alarm == nil || raised.Alarm == nil || ev.Alarm.ID != raised.Alarm.ID {
			t.Fatalf("%s: cleared %+v, raised %+v", what, ev.Alarm, raised.Alarm)
		}
	}

	raised := alarm("no stats from a Frigate that never came", "no stats from Frigate")
	stop := pump()
	cleared("its stats arriving", raised)
	stop()
	say("stopped")
	raised = alarm("0.18's clean stop", "stopped")
	say("online")
	stop = pump()
	cleared("online again", raised)
	stop()
	say("offline")
	raised = alarm("its will", "offline")
	say("online")
	stop = pump()
	defer stop()
	cleared("back after its will", raised)
}

// TestDemoFrigateKeepsTheBoardQuiet: the demo has no Frigate, so its
// simulated one sends Frigate's heartbeat; the site, hearing it for longer
// than its stats timeout, raises no frigate_offline.
func TestDemoFrigateKeepsTheBoardQuiet(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "", func(cfg *config.Config) { cfg.Frigate.StatsTimeout = 3 * time.Second })
	heard := make(chan string, 64)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(ts.MQTTURL()).SetClientID("watch-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Subscribe("frigate/#", 0, func(_ paho.Client, m paho.Message) {
		select {
		case heard <- m.Topic() + " " + string(m.Payload()):
		default:
		}
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	online, stats := false, 0
	deadline := time.After(time.Minute)
	for !online || stats < 5 { // five stats span more than the timeout
		select {
		case m := <-heard:
			online = online || m == "frigate/available online"
			if strings.HasPrefix(m, "frigate/stats {") {
				stats++
			}
		case <-deadline:
			t.Fatalf("after a minute: online %v, %d stats", online, stats)
		}
	}
	var list []sekisho.Alarm
	if code := ts.call("GET", "/api/alarms", nil, &list); code != http.StatusOK {
		t.Fatalf("alarms: %d", code)
	}
	for _, a := range list {
		if a.Kind == sekisho.AlarmFrigateOffline {
			t.Fatalf("the simulated Frigate runs, yet: %+v", a)
		}
	}
}
