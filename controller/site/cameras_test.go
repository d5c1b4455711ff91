package site_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/testtool"
)

var pressStill = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("die-and-press area, 10:14")...)

// fakeFrigate implements the parts of Frigate's HTTP API Sekisho calls: it
// takes bookmarks and lists events for a catch-up.
type fakeFrigate struct {
	*httptest.Server
	mu        sync.Mutex
	bookmarks []string // camera/label/sub_label
	events    []map[string]any
}

func newFakeFrigate(t *testing.T) *fakeFrigate {
	f := &fakeFrigate{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/events/{camera}/{label}/create", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			SubLabel string `json:"sub_label"`
			Duration int    `json:"duration"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Duration <= 0 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.bookmarks = append(f.bookmarks, r.PathValue("camera")+"/"+r.PathValue("label")+"/"+body.SubLabel)
		n := len(f.bookmarks)
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"success": true, "message": "Event created", "event_id": fmt.Sprintf("1764.%d-bm", n)})
	})
	mux.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("after") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		json.NewEncoder(w).Encode(f.events)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeFrigate) Bookmarks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bookmarks...)
}

// withCameras points the demo's cameras at test cameras and Frigate.
func withCameras(t *testing.T, frigate *fakeFrigate) func(*config.Config) {
	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	press := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(pressStill)
	})
	html := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>camera web UI</html>"))
	})
	hang := serve(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	locked := serve(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	return func(cfg *config.Config) {
		for i := range cfg.Cameras {
			c := &cfg.Cameras[i]
			switch c.ID {
			case "cam-press-1":
				c.SnapshotURL = press + "/snapshot.jpg"
			case "cam-entrance":
				c.SnapshotURL, c.Timeout = hang, 500*time.Millisecond
			case "cam-dev":
				c.SnapshotURL, c.Auth, c.Username, c.Password = locked, "basic", "viewer", "old password"
			}
		}
		cfg.Cameras = append(cfg.Cameras, config.Camera{ID: "cam-press-2", Zone: "die-press", Doors: []string{"press-door"}, SnapshotURL: html, Timeout: time.Second})
		cfg.Frigate.URL, cfg.Frigate.Simulated = frigate.URL, false
		cfg.Frigate.Tailgating = config.TailgatingRule{Window: time.Second, Before: 500 * time.Millisecond}
		cfg.Frigate.Intrusion.Grace = time.Second
	}
}

func isType(typ string, more func(event.Event) bool) func(event.Event) bool {
	return func(ev event.Event) bool { return ev.Type == typ && (more == nil || more(ev)) }
}

// A restricted entry keeps a still whose hash is in the chained log and
// bookmarks the badge holder in Frigate; an entry request and a forced door
// get stills too; and each camera that fails — hung, refusing the login,
// sending a web page — is an event saying why, not a gap.
func TestStillsOfWhoCameIn(t *testing.T) {
	t.Parallel()
	frigate := newFakeFrigate(t)
	ts := startSite(t, "", withCameras(t, frigate))
	ts.addCardholder("Press Operator", []string{"press-operators"}, 50, 1)
	live := ts.stream()

	ts.swipe("r-press-out", 50, 1)
	grant := await(t, live, "grant", isType(event.AccessGranted, nil))
	forGrant := func(ev event.Event) bool { return ev.Detail["for"] == grant.ID }
	var still, failed event.Event
	for range 2 {
		ev := await(t, live, "the press cameras", func(ev event.Event) bool { return strings.HasPrefix(ev.Type, "camera.") && forGrant(ev) })
		if ev.Camera.ID == "cam-press-1" {
			still = ev
		} else {
			failed = ev
		}
	}
	if still.Type != event.CameraSnapshot || still.Detail["for_seq"] != fmt.Sprint(grant.Seq) || still.Person == nil || still.Person.Name != "Press Operator" {
		t.Fatalf("still event: %+v", still)
	}
	file, err := os.ReadFile(filepath.Join(camera.StillsDir(ts.Config.DataDir), still.Detail["file"]))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file)
	if string(file) != string(pressStill) || hex.EncodeToString(sum[:]) != still.Camera.SnapshotSHA256 {
		t.Fatal("the kept still is not the camera's picture, or its hash is not the one logged")
	}
	if !strings.Contains(still.Detail["frigate_url"], "/api/press_1/recordings/") || still.Detail["frigate_event"] == "" {
		t.Fatalf("Frigate links: %v", still.Detail)
	}
	if b := frigate.Bookmarks(); len(b) != 1 || b[0] != "press_1/person/Press Operator" {
		t.Fatalf("Frigate bookmarks: %q", b)
	}
	if failed.Type != event.CameraFailed || failed.Camera.ID != "cam-press-2" || !strings.Contains(failed.Detail["error"], "text/html, not a JPEG") {
		t.Fatalf("camera sending a web page: %+v", failed)
	}
	// The guard's screen gets the still through the API.
	req, _ := http.NewRequest("GET", ts.base+"/api/stills/"+still.Detail["file"], nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("still over the API: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, bad := range []string{"/api/stills/2026-11-26/..%2f..%2fsekisho.db", "/api/stills/yesterday/00000001-cam.jpg"} {
		var body struct{ Error string }
		if code := ts.call("GET", bad, nil, &body); code != http.StatusBadRequest || body.Error != "bad_parameter" {
			t.Fatalf("%s: %d %s", bad, code, body.Error)
		}
	}

	// An entry request at the inside-only entrance: its camera hangs, the
	// request was on the board long before.
	ts.swipe("r-main-out", 50, 1)
	req1 := await(t, live, "entry request", isType(event.AccessRequested, nil))
	hung := await(t, live, "the entrance camera", isType(event.CameraFailed, func(ev event.Event) bool { return ev.Detail["for"] == req1.ID }))
	if !strings.Contains(hung.Detail["error"], "no answer within 500ms") || hung.Seq < req1.Seq {
		t.Fatalf("hung camera: %+v", hung)
	}

	// A forced door: the development room's camera refuses the login.
	ts.Sim.Door("dev-door").SetOpen(context.Background(), true)
	forced := await(t, live, "forced", isType(event.DoorForced, nil))
	refused := await(t, live, "the development room camera", isType(event.CameraFailed, func(ev event.Event) bool { return ev.Detail["for"] == forced.ID }))
	if !strings.Contains(refused.Detail["error"], "refused the login (401") {
		t.Fatalf("camera refusing the login: %+v", refused)
	}
	if v, err := ts.Store.Verify(context.Background()); err != nil || !v.OK {
		t.Fatalf("chain: %+v %v", v, err)
	}

	// verify checks each kept still against the hash in the chain.
	db := site.DBPath(ts.Config.DataDir, ts.Config.Site)
	verify := func() (int, string) {
		var out bytes.Buffer
		return cli.Run(context.Background(), []string{"verify", "--db", db}, &out, io.Discard), out.String()
	}
	if code, out := verify(); code != 0 || !strings.Contains(out, "ok: 1 camera stills match") {
		t.Fatalf("verify with the stills intact: %d %s", code, out)
	}
	path := filepath.Join(camera.StillsDir(ts.Config.DataDir), still.Detail["file"])
	if err := os.WriteFile(path, append(pressStill, 0), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, out := verify(); code != 1 || !strings.Contains(out, "STILL TAMPERED: seq "+fmt.Sprint(still.Seq)) || !strings.Contains(out, "changed") {
		t.Fatalf("verify with a still swapped: %d %s", code, out)
	}
	// The dashboard's verify runs in the background and says how far it got.
	var api struct {
		Running     bool
		Done, Total int64
		Result      *struct {
			OK             bool `json:"ok"`
			Chain          struct{ OK bool }
			StillsProblems []struct{ Seq int64 } `json:"stills_problems"`
		}
	}
	if code := ts.call("POST", "/api/verify", map[string]any{}, &api); code != http.StatusAccepted {
		t.Fatalf("POST /api/verify: %d", code)
	}
	waitFor(t, "the dashboard's verify to finish", func() bool {
		ts.call("GET", "/api/verify", nil, &api)
		return !api.Running && api.Result != nil
	})
	if r := api.Result; r.OK || !r.Chain.OK || len(r.StillsProblems) != 1 || r.StillsProblems[0].Seq != still.Seq || api.Done < api.Total || api.Total == 0 {
		t.Fatalf("/api/verify with a still swapped: %+v %+v", api, r)
	}
	os.Remove(path)
	if code, out := verify(); code != 1 || !strings.Contains(out, "missing") {
		t.Fatalf("verify with a still deleted: %d %s", code, out)
	}
}

// publisher is a stand-in for Frigate on the broker.
func publisher(t *testing.T, url string) func(string) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("frigate-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return func(payload string) {
		t.Helper()
		if tok := c.Publish("frigate/events", 0, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
}

// frigateEvent is a frigate/events payload as Frigate sends it.
func frigateEvent(id, cam, label string, zones ...string) string {
	start := float64(time.Now().UnixMilli()) / 1000
	z, _ := json.Marshal(append([]string{}, zones...))
	return fmt.Sprintf(`{"type":"new","before":{"id":%q,"camera":%q,"label":%q,"start_time":%f,"current_zones":[],"entered_zones":[]},
		"after":{"id":%q,"camera":%q,"frame_time":%f,"label":%q,"sub_label":null,"top_score":0.8,"false_positive":false,
		"start_time":%f,"end_time":null,"score":0.8,"box":[1,2,3,4],"current_zones":%s,"entered_zones":%s,"has_clip":true,"has_snapshot":true}}`,
		id, cam, label, start, id, cam, start, label, start, z, z)
}

// Frigate's detections on a real broker: a phone in the press area, a
// person in an empty development room and one person too many through the
// press door each raise their alarm with the evidence; the same messages
// without the violation raise none; garbage is counted, not crashed on.
func TestFrigateDetectionsRaiseAlarms(t *testing.T) {
	t.Parallel()
	frigate := newFakeFrigate(t)
	ts := startSite(t, "", withCameras(t, frigate))
	ts.addCardholder("Operator One", []string{"press-operators"}, 50, 1)
	ts.addCardholder("Operator Two", []string{"press-operators"}, 50, 2)
	live := ts.stream()
	publish := publisher(t, ts.MQTTURL())
	detected := func(id string) event.Event {
		t.Helper()
		return await(t, live, "detection "+id, isType(event.CameraDetection, func(ev event.Event) bool { return ev.Detail["frigate_event"] == id }))
	}
	alarm := func(kind string) event.Event {
		t.Helper()
		return await(t, live, kind+" alarm", isType(event.AlarmRaised, func(ev event.Event) bool { return ev.Detail["kind"] == kind }))
	}
	awaitSubscriber(t, live, publish)

	// Garbage: counted by kind.
	publish(`{"type":"new",`)
	publish(frigateEvent("x1", "car_park", "person"))
	publish(`{"type":"new","after":{"id":"` + strings.Repeat("x", camera.MaxMessage) + `"}}`)
	publish(strings.Replace(frigateEvent("x2", "press_1", "person"), `"start_time":`, `"start_time":1000000000.0,"ignored":`, 2))

	// A phone where phones are allowed, then in the press area.
	publish(frigateEvent("phone-dev", "dev_1", "cell phone"))
	detected("phone-dev")
	publish(frigateEvent("phone-press", "press_1", "cell phone", "press_floor"))
	if ev := alarm("phone"); ev.Detail["frigate_event"] != "phone-press" || ev.Camera.ID != "cam-press-1" || ev.ZoneTo != "die-press" ||
		ev.Detail["frigate_snapshot"] != frigate.URL+"/api/events/phone-press/snapshot.jpg" {
		t.Fatalf("phone alarm: %+v", ev)
	}

	// An operator badges into the press area and is seen: all in order.
	ts.swipe("r-press-out", 50, 1)
	await(t, live, "operator one in", isType(event.AccessGranted, nil))
	publish(frigateEvent("op-1", "press_1", "person", "press_floor"))
	detected("op-1")
	waitFor(t, "the tailgating window to close on one person for one badge", func() bool { return !ts.TailgatingWindowOpen("press-door") })

	// Operator two badges, and two people walk in.
	ts.swipe("r-press-out", 50, 2)
	await(t, live, "operator two in", isType(event.AccessGranted, nil))
	publish(frigateEvent("op-2", "press_1", "person", "press_floor"))
	publish(frigateEvent("stranger", "press_1", "person", "press_floor"))
	if ev := alarm("tailgating"); ev.Door != "press-door" || ev.Detail["people"] != "2" || ev.Detail["admitted"] != "1" ||
		!strings.Contains(ev.Detail["frigate_events"], "stranger") {
		t.Fatalf("tailgating alarm: %+v", ev)
	}

	// Somebody in the development room nobody badged into.
	publish(frigateEvent("ghost", "dev_1", "person"))
	if ev := alarm("intrusion"); ev.Detail["frigate_event"] != "ghost" || ev.ZoneTo != "dev-room" {
		t.Fatalf("intrusion alarm: %+v", ev)
	}

	// The alarms table is written by the log's writer just after each
	// alarm.raised: once the last one's row is in, all are.
	count := map[string]int{}
	waitFor(t, "the intrusion alarm in the alarms table", func() bool {
		open, err := ts.Store.OpenAlarms(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		clear(count)
		for _, a := range open {
			count[string(a.Kind)]++
		}
		return count["intrusion"] > 0
	})
	if count["phone"] != 1 || count["tailgating"] != 1 || count["intrusion"] != 1 {
		t.Fatalf("alarms raised: %v; want one of each, none for the innocent detections", count)
	}
	var cams struct {
		Frigate struct {
			Refused map[string]int `json:"refused"`
		} `json:"frigate"`
	}
	ts.call("GET", "/api/cameras", nil, &cams)
	for _, kind := range []string{"bad_json", "unknown_camera", "too_large", "stale"} {
		if cams.Frigate.Refused[kind] != 1 {
			t.Fatalf("refused %v; want one %s", cams.Frigate.Refused, kind)
		}
	}
}

// awaitSubscriber returns once a detection goes through to the log.
func awaitSubscriber(t *testing.T, live <-chan event.Event, publish func(string)) {
	t.Helper()
	waitFor(t, "the Frigate subscriber", func() bool {
		publish(frigateEvent("warm-up", "dev_1", "chair"))
		select {
		case ev := <-live:
			return ev.Type == event.CameraDetection
		case <-time.After(200 * time.Millisecond):
			return false
		}
	})
}

// Frigate's detections are QoS 0 and not kept: after the broker comes back,
// Sekisho reads what it missed from Frigate's API.
func TestFrigateCatchUpAfterAGap(t *testing.T) {
	t.Parallel()
	m := testtool.StartMosquitto(t)
	frigate := newFakeFrigate(t)
	ts := startSite(t, m.URL, withCameras(t, frigate))
	live := ts.stream()
	publish := publisher(t, m.URL)
	awaitSubscriber(t, live, publish)

	m.Stop()
	// While the broker is down, Frigate sees a phone in the press area.
	frigate.mu.Lock()
	frigate.events = []map[string]any{{"id": "missed-phone", "camera": "press_1", "label": "cell phone",
		"zones": []string{"press_floor"}, "start_time": float64(time.Now().UnixMilli()) / 1000, "end_time": nil, "has_snapshot": true}}
	frigate.mu.Unlock()
	m.Start(t, testtool.Need(t, "mosquitto", "/usr/sbin/mosquitto"))

	ev := await(t, live, "the caught-up detection", isType(event.CameraDetection, func(ev event.Event) bool { return ev.Detail["frigate_event"] == "missed-phone" }))
	if ev.Detail["caught_up"] != "true" {
		t.Fatalf("detection: %+v", ev)
	}
	await(t, live, "phone alarm", isType(event.AlarmRaised, func(ev event.Event) bool { return ev.Detail["kind"] == "phone" }))
}

// A flood on Frigate's topic (thousands of routine updates) does not drown
// a phone in the press area: it is weighed and alarmed all the same.
func TestFrigateFloodNeverDropsAViolation(t *testing.T) {
	t.Parallel()
	frigate := newFakeFrigate(t)
	ts := startSite(t, "", withCameras(t, frigate))
	live := ts.stream()
	publish := publisher(t, ts.MQTTURL())
	awaitSubscriber(t, live, publish)
	chair := strings.Replace(frigateEvent("chair", "dev_1", "chair"), `"type":"new"`, `"type":"update"`, 1)
	for range 3000 {
		publish(chair)
	}
	publish(frigateEvent("phone-in-flood", "press_1", "cell phone", "press_floor"))
	for range 1000 {
		publish(chair)
	}
	ev := await(t, live, "the phone alarm through the flood", isType(event.AlarmRaised, func(ev event.Event) bool {
		return ev.Detail["kind"] == "phone"
	}))
	if ev.Detail["frigate_event"] != "phone-in-flood" {
		t.Fatalf("phone alarm: %+v", ev)
	}
}
