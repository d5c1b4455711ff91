package camera

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// MaxMessage caps a Frigate message: real ones are a few kilobytes.
const MaxMessage = 64 << 10

// Detection is one object Frigate tracks, as Sekisho needs it.
type Detection struct {
	Type        string    // new, update or end
	ID          string    // Frigate's event id
	Camera      string    // Frigate's camera name
	Label       string    // person, cell phone, …
	Zones       []string  // Frigate zones the object is in now (entered ones, for a caught-up event)
	Start       time.Time // first seen
	End         time.Time // zero while it is still seen
	HasSnapshot bool
	CaughtUp    bool // read back from Frigate's API after a gap, not heard live
	// SubLabel and SubScore: the name Frigate 0.16+ recognised on the
	// object (a face from its library, a known plate) and its score; empty
	// without one. A sub-label with no score (Frigate before 0.14, or one
	// set through the API, as Sekisho's own bookmarks are) is not a
	// recognition and is left out.
	SubLabel string
	SubScore float64
}

// Reject is a message Sekisho will not act on, with the kind it is counted
// under.
type Reject struct {
	Kind   string // one of RejectKinds
	Detail string
}

// RejectKinds is every kind a Frigate message is refused under: the
// metrics show each from the start, at 0.
var RejectKinds = []string{"too_large", "bad_json", "bad_type", "missing_field", "false_positive", "stale", "future",
	"unknown_camera", "overflow", "bad_score", "bad_name", "error"}

func (r *Reject) Error() string { return r.Kind + ": " + r.Detail }

func reject(kind, format string, args ...any) *Reject {
	return &Reject{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// message is Frigate's frigate/events payload (fields Sekisho reads).
type message struct {
	Type   string  `json:"type"`
	Before *object `json:"before"`
	After  *object `json:"after"`
}

type object struct {
	ID            string   `json:"id"`
	Camera        string   `json:"camera"`
	Label         string   `json:"label"`
	StartTime     float64  `json:"start_time"`
	EndTime       *float64 `json:"end_time"`
	CurrentZones  []string `json:"current_zones"`
	EnteredZones  []string `json:"entered_zones"`
	HasSnapshot   bool     `json:"has_snapshot"`
	FalsePositive bool     `json:"false_positive"`
	// SubLabel is null, "name" (set by hand or the API) or, from 0.14 on,
	// ["name", score] when Frigate recognised it.
	SubLabel json.RawMessage `json:"sub_label"`
}

// ParseMessage reads a frigate/events payload. Detections that started more
// than maxAge from now, either way, are refused: a replay of old traffic or
// a camera with a wrong clock must not raise today's alarms.
func ParseMessage(payload []byte, now time.Time, maxAge time.Duration) (Detection, error) {
	if len(payload) > MaxMessage {
		return Detection{}, reject("too_large", "%d bytes, over %d", len(payload), MaxMessage)
	}
	var m message
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&m); err != nil {
		return Detection{}, reject("bad_json", "%v", err)
	}
	if dec.More() {
		return Detection{}, reject("bad_json", "more than one JSON value")
	}
	switch m.Type {
	case "new", "update", "end":
	case "":
		return Detection{}, reject("missing_field", "type is missing")
	default:
		return Detection{}, reject("bad_type", "type %.40q: want new, update or end", m.Type)
	}
	a := m.After
	if a == nil {
		return Detection{}, reject("missing_field", "after is missing")
	}
	switch {
	case a.ID == "":
		return Detection{}, reject("missing_field", "after.id is missing")
	case a.Camera == "":
		return Detection{}, reject("missing_field", "after.camera is missing")
	case a.Label == "":
		return Detection{}, reject("missing_field", "after.label is missing")
	case a.StartTime <= 0 || math.IsNaN(a.StartTime) || math.IsInf(a.StartTime, 0) || a.StartTime > 1e11:
		return Detection{}, reject("missing_field", "after.start_time is missing or not a time")
	}
	d := Detection{Type: m.Type, ID: a.ID, Camera: a.Camera, Label: a.Label, Zones: a.CurrentZones,
		Start: fromUnix(a.StartTime), HasSnapshot: a.HasSnapshot}
	if a.EndTime != nil && *a.EndTime > 0 && *a.EndTime < 1e11 {
		d.End = fromUnix(*a.EndTime)
	}
	if name, score, ok := scoredSubLabel(a.SubLabel); ok {
		d.SubLabel, d.SubScore = name, score
	}
	if a.FalsePositive {
		return Detection{}, reject("false_positive", "Frigate marked %s a false positive", a.ID)
	}
	switch age := now.Sub(d.Start); {
	case age > maxAge:
		return Detection{}, reject("stale", "started %v ago, over %v", age.Round(time.Second), maxAge)
	case -age > maxAge:
		return Detection{}, reject("future", "starts %v from now: check the camera's clock", (-age).Round(time.Second))
	}
	return d, nil
}
