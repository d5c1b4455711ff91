package camera

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Recognition kinds: a face Frigate knows from its face library, or a
// licence plate.
const (
	RecognizedFace  = "face"
	RecognizedPlate = "lpr"
)

// maxName caps a recognised name: Frigate's face library names are a
// person's name, not a paragraph.
const maxName = 100

// Recognition is a name Frigate (0.16+) put to an object it tracks. Sekisho
// keeps the name and its score, never the face.
type Recognition struct {
	Kind   string    // face or lpr
	Object string    // Frigate's event id of the tracked object
	Camera string    // Frigate's camera name
	Name   string    // as named in Frigate's face library, or a known plate's name
	Plate  string    // lpr: the plate as read
	Score  float64   // 0 to 1
	At     time.Time // when Frigate recognised it
}

// objectUpdate is Frigate's <root>/tracked_object_update payload (fields
// Sekisho reads). Faces: {"type":"face","id","name","score","camera",
// "timestamp"}; plates add "plate". Other types (descriptions,
// classifications) name nobody.
type objectUpdate struct {
	Type      string   `json:"type"`
	ID        string   `json:"id"`
	Name      *string  `json:"name"`
	Plate     string   `json:"plate"`
	Score     *float64 `json:"score"`
	Camera    string   `json:"camera"`
	Timestamp float64  `json:"timestamp"`
}

// ParseObjectUpdate reads a tracked_object_update payload. ok is false for
// an update that names nobody: another type, or a face Frigate did not
// know. Like detections, recognitions further than maxAge from now are
// refused.
func ParseObjectUpdate(payload []byte, now time.Time, maxAge time.Duration) (r Recognition, ok bool, err error) {
	if len(payload) > MaxMessage {
		return r, false, reject("too_large", "%d bytes, over %d", len(payload), MaxMessage)
	}
	var m objectUpdate
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&m); err != nil {
		return r, false, reject("bad_json", "%v", err)
	}
	if dec.More() {
		return r, false, reject("bad_json", "more than one JSON value")
	}
	if m.Type != RecognizedFace && m.Type != RecognizedPlate {
		return r, false, nil
	}
	if m.Name == nil || strings.TrimSpace(*m.Name) == "" {
		return r, false, nil // unknown face, or a plate read with no known name
	}
	switch {
	case m.ID == "":
		return r, false, reject("missing_field", "id is missing")
	case m.Camera == "":
		return r, false, reject("missing_field", "camera is missing")
	case m.Score == nil || math.IsNaN(*m.Score) || *m.Score < 0 || *m.Score > 1:
		return r, false, reject("bad_score", "score is missing or not between 0 and 1")
	case m.Timestamp <= 0 || math.IsNaN(m.Timestamp) || math.IsInf(m.Timestamp, 0) || m.Timestamp > 1e11:
		return r, false, reject("missing_field", "timestamp is missing or not a time")
	}
	name, err := cleanName(*m.Name)
	if err != nil {
		return r, false, err
	}
	plate, err := cleanName(m.Plate)
	if err != nil {
		return r, false, err
	}
	r = Recognition{Kind: m.Type, Object: m.ID, Camera: m.Camera, Name: name, Plate: plate, Score: *m.Score, At: fromUnix(m.Timestamp)}
	switch age := now.Sub(r.At); {
	case age > maxAge:
		return Recognition{}, false, reject("stale", "recognised %v ago, over %v", age.Round(time.Second), maxAge)
	case -age > maxAge:
		return Recognition{}, false, reject("future", "recognised %v from now: check Frigate's clock", (-age).Round(time.Second))
	}
	return r, true, nil
}

// cleanName holds a name from the network to what a guard may be shown:
// valid UTF-8, no control characters, at most maxName characters.
func cleanName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		return "", reject("bad_name", "the name is not UTF-8")
	case utf8.RuneCountInString(s) > maxName:
		return "", reject("bad_name", "the name is over %d characters", maxName)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", reject("bad_name", "the name holds control characters")
	}
	return s, nil
}

// scoredSubLabel reads frigate/events' sub_label when it is a recognition:
// ["name", score]. null, a bare string (set by hand or through the API) and
// anything malformed are not.
func scoredSubLabel(raw json.RawMessage) (string, float64, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return "", 0, false
	}
	var pair []json.RawMessage
	if json.Unmarshal(raw, &pair) != nil || len(pair) != 2 {
		return "", 0, false
	}
	var name string
	var score float64
	if json.Unmarshal(pair[0], &name) != nil || json.Unmarshal(pair[1], &score) != nil || score <= 0 || score > 1 {
		return "", 0, false
	}
	name, err := cleanName(name)
	if err != nil || name == "" {
		return "", 0, false
	}
	return name, score, true
}

// Recognition is the name Frigate put to a detection, heard at now: a face
// on a person, a known plate on a vehicle.
func (d Detection) Recognition(now time.Time) (Recognition, bool) {
	if d.SubLabel == "" || d.CaughtUp {
		return Recognition{}, false
	}
	kind := RecognizedPlate
	if d.Label == "person" {
		kind = RecognizedFace
	}
	return Recognition{Kind: kind, Object: d.ID, Camera: d.Camera, Name: d.SubLabel, Score: d.SubScore, At: now}, true
}
