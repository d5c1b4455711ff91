package camera_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
)

func demo(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func detection(id, cam, label string, at time.Time, zones ...string) camera.Detection {
	return camera.Detection{Type: "new", ID: id, Camera: cam, Label: label, Start: at, Zones: zones}
}

func kinds(fs []camera.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Kind))
	}
	return strings.Join(out, ",")
}

// A Tuesday morning in Hamamatsu, inside the day shift.
var tuesday = time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))

func TestTailgating(t *testing.T) {
	tests := []struct {
		name   string
		grants int
		people int
		late   time.Duration // the last person's lag after the grant
		want   string
	}{
		{"one badge, one person", 1, 1, 2 * time.Second, ""},
		{"one badge, two people", 1, 2, 4 * time.Second, "tailgating"},
		{"escort pair, two people", 2, 2, 3 * time.Second, ""},
		{"escort pair, three people", 2, 3, 5 * time.Second, "tailgating"},
		{"second person long after", 1, 2, 30 * time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			occupancy := map[string]int{"die-press": 1}
			c := camera.NewCorrelator(demo(t), func() map[string]int { return occupancy })
			g := tuesday
			for i := range tt.grants {
				c.Grant("ev-"+string(rune('a'+i)), "press-door", "floor", "die-press", g.Add(time.Duration(i)*time.Second))
			}
			var now time.Time
			for i := range tt.people {
				at := g.Add(-time.Second) // walking up as they badge
				if i == tt.people-1 {
					at = g.Add(tt.late)
				}
				now = at
				if _, fs, err := c.Detect(detection("obj-"+string(rune('a'+i)), "press_1", "person", at, "press_floor"), at); err != nil || len(fs) != 0 {
					t.Fatalf("detection: %v %s", err, kinds(fs))
				}
			}
			if fs := c.Due(g.Add(5 * time.Second)); len(fs) != 0 {
				t.Fatalf("judged before the window closed: %s", kinds(fs))
			}
			fs := c.Due(now.Add(time.Minute))
			if got := kinds(fs); got != tt.want {
				t.Fatalf("findings %q, want %q", got, tt.want)
			}
			if tt.want != "" && (fs[0].Door != "press-door" || fs[0].Camera != "cam-press-1" || fs[0].Evidence["grants"] == "" || fs[0].Evidence["frigate_events"] == "") {
				t.Fatalf("finding without its evidence: %+v", fs[0])
			}
			if fs := c.Due(now.Add(2 * time.Minute)); len(fs) != 0 {
				t.Fatalf("raised twice: %s", kinds(fs))
			}
		})
	}
}

func TestIntrusionAndPhones(t *testing.T) {
	nightShift := func(cfg *config.Config) {
		for i := range cfg.AccessLevels {
			if cfg.AccessLevels[i].ID == "press-operators" {
				cfg.AccessLevels[i].Schedule = "day-shift"
			}
		}
	}
	sunday3am := time.Date(2026, 11, 29, 3, 0, 0, 0, time.FixedZone("JST", 9*3600))
	tests := []struct {
		name      string
		tweak     func(*config.Config)
		occupancy map[string]int
		badgedAgo time.Duration // last badge in or out of the zone; 0: never
		d         camera.Detection
		want      string
	}{
		{"person in an empty press area", nil, nil, 0, detection("p1", "press_1", "person", tuesday, "press_floor"), "intrusion"},
		{"person where an operator badged in", nil, map[string]int{"die-press": 1}, time.Minute, detection("p1", "press_1", "person", tuesday, "press_floor"), ""},
		{"person just after the last one left", nil, nil, 10 * time.Second, detection("p1", "press_1", "person", tuesday, "press_floor"), ""},
		{"person outside the camera's mapped zones", nil, nil, 0, detection("p1", "press_1", "person", tuesday, "aisle"), ""},
		{"person in the development room, nobody badged", nil, nil, 0, detection("p1", "dev_1", "person", tuesday), "intrusion"},
		{"person there on a Sunday night", nightShift, map[string]int{"die-press": 1}, time.Minute, detection("p1", "press_1", "person", sunday3am, "press_floor"), "intrusion"},
		{"phone in the press area", nil, map[string]int{"die-press": 1}, time.Minute, detection("ph1", "press_1", "cell phone", tuesday, "press_floor"), "phone"},
		{"phone in the development room (phones allowed)", nil, map[string]int{"dev-room": 1}, time.Minute, detection("ph1", "dev_1", "cell phone", tuesday), ""},
		{"forklift in the press area", nil, map[string]int{"die-press": 1}, time.Minute, detection("f1", "press_1", "forklift", tuesday, "press_floor"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := demo(t)
			if tt.tweak != nil {
				tt.tweak(cfg)
			}
			c := camera.NewCorrelator(cfg, func() map[string]int { return tt.occupancy })
			now := tt.d.Start
			if tt.badgedAgo > 0 {
				c.Grant("ev-x", "floor-door", "lobby", "floor", now.Add(-tt.badgedAgo))
				c.Grant("ev-y", "press-door", "floor", "die-press", now.Add(-tt.badgedAgo))
				c.Grant("ev-z", "dev-door", "floor", "dev-room", now.Add(-tt.badgedAgo))
			}
			_, fs, err := c.Detect(tt.d, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(fs); got != tt.want {
				t.Fatalf("findings %q, want %q (%+v)", got, tt.want, fs)
			}
			if tt.want != "" && fs[0].Evidence["frigate_event"] != tt.d.ID {
				t.Fatalf("evidence: %+v", fs[0].Evidence)
			}
			// Frigate sends update after update of one object: one alarm.
			tt.d.Type = "update"
			if _, fs, _ := c.Detect(tt.d, now.Add(time.Second)); len(fs) != 0 {
				t.Fatalf("raised again on an update: %s", kinds(fs))
			}
		})
	}
}

func TestUnknownFrigateCamera(t *testing.T) {
	c := camera.NewCorrelator(demo(t), func() map[string]int { return nil })
	_, _, err := c.Detect(detection("x", "car_park", "person", tuesday), tuesday)
	var r *camera.Reject
	if !errors.As(err, &r) || r.Kind != "unknown_camera" {
		t.Fatalf("err = %v", err)
	}
}
