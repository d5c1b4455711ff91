package trustreport_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/trustreport"
)

type history struct {
	t   *testing.T
	st  *store.Store
	day time.Time // 00:00 of the day, site time
}

func (h *history) add(at string, ev event.Event) *event.Event {
	h.t.Helper()
	d, err := time.ParseDuration(at)
	if err != nil {
		h.t.Fatal(err)
	}
	ev.Time = h.day.Add(d)
	if err := h.st.Append(h.t.Context(), &ev); err != nil {
		h.t.Fatal(err)
	}
	return &ev
}

func person(id, name, kind, company string) *event.Person {
	return &event.Person{ID: id, Name: name, Kind: kind, Company: company}
}

func TestTheReportKeepsToTheCompanysAssetsAndFlagsMissingCovers(t *testing.T) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "r.db"), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, cfg.Location)
	h := &history{t: t, st: st, day: day}
	asset := func(at, typ, id, owner, from, to, by string) {
		h.add(at, event.Event{Type: typ, ZoneFrom: from, ZoneTo: to, Actor: by, Detail: map[string]string{"asset": id, "owner": owner, "source": "admin"}})
	}
	asset("7h", event.AssetRegistered, "die-a-100", "Toyo Auto", "", "die-press", "config")
	asset("7h", event.AssetRegistered, "die-b-220", "Enshu Denki", "", "die-press", "config")
	sato := person("p-sato", "佐藤", "employee", "")
	kato := person("p-kato", "加藤", "contractor", "Kato Kikai")
	v1 := person("v-1", "Mr Visitor", "visitor", "Enshu Denki")
	v2 := person("v-2", "Ms Guest", "visitor", "Hamana Gear")
	own := person("v-3", "Toyo's own", "visitor", "Toyo Auto")
	e1 := h.add("8h", event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: sato})
	h.add("8h1m", event.Event{Type: event.CameraSnapshot, Door: "press-door", ZoneTo: "die-press", Camera: &event.Camera{ID: "cam-press", SnapshotSHA256: "ab12"},
		Detail: map[string]string{"for": e1.ID}})
	h.add("9h", event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "die-press", ZoneTo: "floor", Person: sato})
	h.add("9h30m", event.Event{Type: event.CoverConfirmed, Visit: "visit-1", ZoneTo: "die-press", Actor: "guard", Detail: map[string]string{"assets": "die-a-100"}})
	h.add("10h", event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: v1, Visit: "visit-1"})
	h.add("10h5m", event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: v2, Visit: "visit-2"})
	h.add("10h6m", event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: own, Visit: "visit-3"})
	h.add("10h7m", event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: kato})
	h.add("10h8m", event.Event{Type: event.AlarmRaised, Door: "press-door", Detail: map[string]string{"kind": "tailgating", "detail": "2 people, 1 badge"}})
	h.add("10h9m", event.Event{Type: event.AccessGranted, Door: "dev-door", ZoneFrom: "floor", ZoneTo: "dev-room", Person: sato})
	// Toyo's die leaves the press area at noon; what follows is not theirs.
	asset("12h", event.AssetMoved, "die-a-100", "Toyo Auto", "die-press", "floor", "admin:sato")
	h.add("13h", event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press", Person: sato})

	r, err := trustreport.Build(t.Context(), cfg, st, trustreport.Query{Company: "Toyo Auto", From: day, To: day.AddDate(0, 0, 1)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(r, "", " ")
	if strings.Contains(string(b), "die-b-220") {
		t.Fatalf("another customer's asset is in the report:\n%s", b)
	}
	// Toyo's die: die-press 07:00–12:00, then the floor.
	if len(r.Assets) != 2 || r.Assets[0].Zone != "die-press" || !r.Assets[0].To.Equal(day.Add(12*time.Hour)) || r.Assets[1].Zone != "floor" {
		t.Fatalf("assets: %+v", r.Assets)
	}
	var who []string
	for _, e := range r.Entries {
		who = append(who, e.Zone+":"+e.Person.Name)
	}
	if got := strings.Join(who, ","); got != "die-press:佐藤,die-press:Mr Visitor,die-press:Ms Guest,die-press:Toyo's own,die-press:加藤" {
		t.Fatalf("entries: %s", got)
	}
	if e := r.Entries[0]; len(e.Stills) != 1 || e.Stills[0].SHA256 != "ab12" || !e.Exit.Equal(day.Add(9*time.Hour)) {
		t.Fatalf("sato's entry: %+v", e)
	}
	if len(r.Visits) != 2 || r.Visits[0].Missing || r.Visits[0].By != "guard" || !r.Visits[1].Missing || r.Visits[1].Company != "Hamana Gear" {
		t.Fatalf("covers: %+v", r.Visits)
	}
	if len(r.Alarms) != 1 || r.Alarms[0].Kind != "tailgating" || !r.Alarms[0].Camera || r.Alarms[0].Zone != "die-press" {
		t.Fatalf("alarms: %+v", r.Alarms)
	}
	kinds := []string{}
	for _, g := range r.People {
		kinds = append(kinds, g.Kind+"/"+g.Company)
	}
	if got := strings.Join(kinds, ","); got != "employee/,contractor/Kato Kikai,visitor/Enshu Denki,visitor/Hamana Gear,visitor/Toyo Auto" {
		t.Fatalf("groups: %s", got)
	}
	// A manager of the floor alone may not have it: the die was in the
	// press area.
	if _, err := trustreport.Build(t.Context(), cfg, st, trustreport.Query{Company: "Toyo Auto", From: day, To: day.AddDate(0, 0, 1), Zones: []string{"floor"}}, time.Now()); err == nil {
		t.Fatal("a manager of other zones had the report")
	}
	if seqs := r.Seqs(); len(seqs) < 10 {
		t.Fatalf("seqs: %v", seqs)
	}
}
