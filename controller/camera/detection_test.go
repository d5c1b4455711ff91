package camera_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
)

var now = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// frigateMessage is a frigate/events payload as Frigate 0.14 sends it.
func frigateMessage(typ, id, cam, label string, start time.Time, zones ...string) string {
	if zones == nil {
		zones = []string{}
	}
	z := `[]`
	if len(zones) > 0 {
		z = `["` + strings.Join(zones, `","`) + `"]`
	}
	obj := fmt.Sprintf(`{"id":%q,"camera":%q,"frame_time":%.6f,"snapshot":null,"label":%q,"sub_label":null,
		"top_score":0.84,"false_positive":false,"start_time":%.6f,"end_time":null,"score":0.81,
		"box":[424,500,536,712],"area":23744,"ratio":0.5,"region":[264,450,667,853],"stationary":false,
		"motionless_count":0,"position_changes":2,"current_zones":%s,"entered_zones":%s,
		"has_clip":true,"has_snapshot":true,"attributes":{},"current_attributes":[]}`,
		id, cam, float64(start.UnixMilli())/1000+0.2, label, float64(start.UnixMilli())/1000, z, z)
	return fmt.Sprintf(`{"type":%q,"before":%s,"after":%s}`, typ, obj, obj)
}

func TestParseMessage(t *testing.T) {
	d, err := camera.ParseMessage([]byte(frigateMessage("new", "1764147600.1-abc", "press_1", "person", now.Add(-2*time.Second), "press_floor")), now, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != "new" || d.ID != "1764147600.1-abc" || d.Camera != "press_1" || d.Label != "person" ||
		len(d.Zones) != 1 || d.Zones[0] != "press_floor" || !d.Start.Equal(now.Add(-2*time.Second)) || !d.HasSnapshot {
		t.Fatalf("parsed %+v", d)
	}

	tests := []struct {
		name, payload, kind string
	}{
		{"not JSON", `{"type":"new",`, "bad_json"},
		{"two values", `{"type":"new"} {}`, "bad_json"},
		{"an array", `[1,2]`, "bad_json"},
		{"no type", `{"after":{"id":"x"}}`, "missing_field"},
		{"odd type", `{"type":"explode","after":{}}`, "bad_type"},
		{"no after", `{"type":"new"}`, "missing_field"},
		{"no id", strings.Replace(frigateMessage("new", "", "press_1", "person", now), `"id":""`, `"id":""`, 1), "missing_field"},
		{"no camera", frigateMessage("new", "a", "", "person", now), "missing_field"},
		{"no label", frigateMessage("update", "a", "press_1", "", now), "missing_field"},
		{"no start", `{"type":"new","after":{"id":"a","camera":"c","label":"person"}}`, "missing_field"},
		{"start as text", `{"type":"new","after":{"id":"a","camera":"c","label":"person","start_time":"09:00"}}`, "bad_json"},
		{"last year", frigateMessage("new", "a", "press_1", "person", now.AddDate(-1, 0, 0)), "stale"},
		{"next hour", frigateMessage("new", "a", "press_1", "person", now.Add(time.Hour)), "future"},
		{"false positive", strings.ReplaceAll(frigateMessage("end", "a", "press_1", "person", now), `"false_positive":false`, `"false_positive":true`), "false_positive"},
		{"huge", `{"type":"new","after":{"id":"` + strings.Repeat("x", camera.MaxMessage) + `"}}`, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := camera.ParseMessage([]byte(tt.payload), now, 10*time.Minute)
			var r *camera.Reject
			if !errors.As(err, &r) || r.Kind != tt.kind || r.Detail == "" {
				t.Fatalf("err = %v, want a %s reject", err, tt.kind)
			}
		})
	}
}

// The parser takes anything a network can send: it never panics, and what
// it accepts is whole.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(frigateMessage("new", "1.2-x", "press_1", "person", now, "press_floor")))
	f.Add([]byte(frigateMessage("end", "1.2-x", "dev_1", "cell phone", now.Add(-time.Minute))))
	f.Add([]byte(`{"type":"update","after":{"id":"a","camera":"c","label":"l","start_time":1e300,"end_time":-1}}`))
	f.Add([]byte(`{"type":"new","after":null}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, err := camera.ParseMessage(payload, now, 10*time.Minute)
		if err != nil {
			var r *camera.Reject
			if !errors.As(err, &r) || r.Kind == "" {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		if d.ID == "" || d.Camera == "" || d.Label == "" || d.Start.Sub(now).Abs() > 10*time.Minute {
			t.Fatalf("accepted an incomplete detection: %+v", d)
		}
	})
}
