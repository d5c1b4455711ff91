package camera_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
)

// faceUpdate is a tracked_object_update payload as Frigate 0.16 sends one.
func faceUpdate(id, cam, name string, score float64, at time.Time) string {
	return fmt.Sprintf(`{"type":"face","id":%q,"name":%q,"score":%v,"camera":%q,"timestamp":%.6f}`,
		id, name, score, cam, float64(at.UnixMilli())/1000)
}

func TestParseObjectUpdate(t *testing.T) {
	at := now.Add(-2 * time.Second)
	tests := []struct {
		name    string
		payload string
		want    string // kind|name|plate|score, "" for ok=false, or the reject's kind after "!"
	}{
		{"a face", faceUpdate("1.2-a", "press_1", "佐藤 一郎", 0.93, at), "face|佐藤 一郎||0.93"},
		{"a plate", fmt.Sprintf(`{"type":"lpr","id":"1.3-b","name":"Sato's van","plate":"浜松 400 あ 12-34","score":0.88,"camera":"gate","timestamp":%d}`, at.Unix()),
			"lpr|Sato's van|浜松 400 あ 12-34|0.88"},
		{"an unknown face", `{"type":"face","id":"1.2-a","name":null,"score":0.4,"camera":"press_1","timestamp":1}`, ""},
		{"a description", `{"type":"description","id":"1.2-a","description":"a person in a blue coat"}`, ""},
		{"a classification", `{"type":"classification","id":"1.2-a","camera":"press_1","model":"gate","sub_label":"open"}`, ""},
		{"no id", `{"type":"face","name":"x","score":0.9,"camera":"press_1","timestamp":1}`, "!missing_field"},
		{"no camera", `{"type":"face","id":"a","name":"x","score":0.9,"timestamp":1}`, "!missing_field"},
		{"no score", `{"type":"face","id":"a","name":"x","camera":"c","timestamp":1}`, "!bad_score"},
		{"a score over one", `{"type":"face","id":"a","name":"x","score":7,"camera":"c","timestamp":1}`, "!bad_score"},
		{"no time", `{"type":"face","id":"a","name":"x","score":0.9,"camera":"c"}`, "!missing_field"},
		{"last week", faceUpdate("a", "c", "x", 0.9, now.Add(-7*24*time.Hour)), "!stale"},
		{"a name with a control character", strings.Replace(faceUpdate("a", "c", "xy", 0.9, at), "xy", `x\u0007y`, 1), "!bad_name"},
		{"a name as long as a letter", faceUpdate("a", "c", strings.Repeat("名", 101), 0.9, at), "!bad_name"},
		{"not json", `{"type":"face",`, "!bad_json"},
		{"two values", `{} {}`, "!bad_json"},
		{"huge", `{"type":"face","name":"` + strings.Repeat("x", camera.MaxMessage) + `"}`, "!too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok, err := camera.ParseObjectUpdate([]byte(tt.payload), now, 10*time.Minute)
			got := ""
			var rej *camera.Reject
			switch {
			case errors.As(err, &rej):
				got = "!" + rej.Kind
			case err != nil:
				t.Fatalf("an error without a kind: %v", err)
			case ok:
				got = fmt.Sprintf("%s|%s|%s|%v", r.Kind, r.Name, r.Plate, r.Score)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q (%+v)", got, tt.want, r)
			}
		})
	}
}

// frigate/events carries the name as sub_label ["name", score] from 0.14 on;
// a bare sub_label (set by hand, or by Sekisho's own bookmark) is no
// recognition.
func TestSubLabelIsARecognition(t *testing.T) {
	msg := func(sub string) string {
		return strings.Replace(frigateMessage("update", "1.2-x", "press_1", "person", now), `"sub_label":null`, `"sub_label":`+sub, 2)
	}
	tests := []struct {
		sub  string
		want string
	}{
		{`["佐藤 一郎", 0.91]`, "face|佐藤 一郎|0.91"},
		{`null`, ""},
		{`"Press Operator"`, ""},
		{`["x"]`, ""},
		{`["x", 3]`, ""},
		{`[7, 0.9]`, ""},
		{`["", 0.9]`, ""},
	}
	for _, tt := range tests {
		d, err := camera.ParseMessage([]byte(msg(tt.sub)), now, 10*time.Minute)
		if err != nil {
			t.Fatalf("%s: %v", tt.sub, err)
		}
		got := ""
		if r, ok := d.Recognition(now); ok {
			got = fmt.Sprintf("%s|%s|%v", r.Kind, r.Name, r.Score)
		}
		if got != tt.want {
			t.Errorf("sub_label %s: got %q, want %q", tt.sub, got, tt.want)
		}
	}
}

func TestRecognizerComparesFacesWithBadges(t *testing.T) {
	at := tuesday
	face := func(name string, score float64, after time.Duration) camera.Recognition {
		return camera.Recognition{Kind: camera.RecognizedFace, Object: "1.2-" + name, Camera: "press_1", Name: name, Score: score, At: at.Add(after)}
	}
	type grant struct {
		id, name string
		after    time.Duration
	}
	tests := []struct {
		name   string
		grants []grant
		heard  []camera.Recognition
		want   []string // per comparison: entry|heard names|holder seen|other
	}{
		{"the holder's own face", []grant{{"e1", "Sato Ichiro", 0}},
			[]camera.Recognition{face("sato_ichiro", 0.95, 2*time.Second)}, []string{"e1|sato_ichiro|true|"}},
		{"the holder by id", []grant{{"e1", "Sato Ichiro", 0}},
			[]camera.Recognition{face("P-e1", 0.95, time.Second)}, []string{"e1|P-e1|true|"}},
		{"someone else with the card", []grant{{"e1", "Sato Ichiro", 0}},
			[]camera.Recognition{face("Tanaka", 0.91, -time.Second), face("Tanaka", 0.85, time.Second)}, []string{"e1|Tanaka|false|Tanaka"}},
		{"someone else, unsure", []grant{{"e1", "Sato Ichiro", 0}},
			[]camera.Recognition{face("Tanaka", 0.6, time.Second)}, []string{"e1|Tanaka|false|"}},
		{"the holder and a companion", []grant{{"e1", "Sato Ichiro", 0}},
			[]camera.Recognition{face("Tanaka", 0.97, time.Second), face("Sato Ichiro", 0.9, 2*time.Second)}, []string{"e1|Tanaka,Sato Ichiro|true|"}},
		{"two badges, two faces", []grant{{"e1", "Sato Ichiro", 0}, {"e2", "Tanaka", 3 * time.Second}},
			[]camera.Recognition{face("Tanaka", 0.97, 4*time.Second)}, []string{"e1|Tanaka|false|", "e2|Tanaka|true|"}},
		{"a face long before", []grant{{"e1", "Sato Ichiro", 0}},
			[]camera.Recognition{face("Tanaka", 0.97, -time.Minute)}, nil},
		{"a plate names nobody's face", []grant{{"e1", "Sato Ichiro", 0}},
			[]camera.Recognition{{Kind: camera.RecognizedPlate, Object: "1.9-v", Camera: "press_1", Name: "Tanaka's van", Plate: "12-34", Score: 0.99, At: at}},
			[]string{"e1|Tanaka's van|false|"}},
		{"nobody recognised", []grant{{"e1", "Sato Ichiro", 0}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := camera.NewRecognizer(demo(t))
			for i, g := range tt.grants {
				r.Grant(g.id, int64(i+1), "press-door", "die-press", "P-"+g.id, g.name, at.Add(g.after))
			}
			r.Grant("e9", 99, "main-entrance", "lobby", "P-e9", "Tanaka", at) // no Frigate camera there
			for _, h := range tt.heard {
				if err := r.Heard(h); err != nil {
					t.Fatal(err)
				}
			}
			if early := r.Due(at.Add(5 * time.Second)); len(early) != 0 {
				t.Fatalf("weighed before the window closed: %+v", early)
			}
			var got []string
			for _, c := range r.Due(at.Add(time.Minute)) {
				var names []string
				for _, h := range c.Heard {
					names = append(names, h.Name)
				}
				other := ""
				if c.Other != nil {
					other = c.Other.Name
					if c.Camera != "cam-press-1" {
						t.Errorf("camera %q", c.Camera)
					}
				}
				got = append(got, fmt.Sprintf("%s|%s|%v|%s", c.Entry, strings.Join(names, ","), c.HolderSeen, other))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if again := r.Due(at.Add(2 * time.Minute)); len(again) != 0 {
				t.Fatalf("weighed twice: %+v", again)
			}
		})
	}
	if err := camera.NewRecognizer(demo(t)).Heard(camera.Recognition{Camera: "street", Name: "x"}); err == nil {
		t.Fatal("a recognition from a camera Sekisho does not know was kept")
	}
}

// The parser takes anything a network can send: it never panics, and a
// recognition it accepts is whole and fit to show.
func FuzzParseObjectUpdate(f *testing.F) {
	f.Add([]byte(faceUpdate("1.2-a", "press_1", "佐藤 一郎", 0.93, now)))
	f.Add([]byte(`{"type":"lpr","id":"a","name":"van","plate":"12-34","score":0.9,"camera":"gate","timestamp":1e300}`))
	f.Add([]byte(`{"type":"face","name":null}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, ok, err := camera.ParseObjectUpdate(payload, now, 10*time.Minute)
		if err != nil {
			var rej *camera.Reject
			if !errors.As(err, &rej) || rej.Kind == "" {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		if ok && (r.Object == "" || r.Camera == "" || r.Name == "" || r.Score < 0 || r.Score > 1 || r.At.Sub(now).Abs() > 10*time.Minute) {
			t.Fatalf("accepted an incomplete recognition: %+v", r)
		}
	})
}
