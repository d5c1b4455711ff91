package site

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// recognizedEvent logs what Frigate recognised around a grant, beside it
// (detail.for) as a still is: the names and scores, never a face.
func recognizedEvent(c camera.Comparison) *event.Event {
	best := c.Heard[0]
	heard := make([]string, len(c.Heard))
	for i, h := range c.Heard {
		heard[i] = h.Name + " " + score(h.Score)
		if h.Kind == camera.RecognizedPlate {
			heard[i] = strings.TrimSpace(h.Name + " " + h.Plate + " " + score(h.Score))
		}
	}
	d := map[string]string{"for": c.Entry, "for_seq": strconv.FormatInt(c.EntrySeq, 10),
		"name": best.Name, "score": score(best.Score), "kind": best.Kind, "recognized": strings.Join(heard, ", "),
		"frigate_event": best.Object, "frigate_camera": best.Camera, "holder": c.Holder, "holder_seen": strconv.FormatBool(c.HolderSeen)}
	if best.Plate != "" {
		d["plate"] = best.Plate
	}
	if c.Other != nil {
		d["other"], d["other_score"] = c.Other.Name, score(c.Other.Score)
	}
	return &event.Event{Type: event.CameraRecognized, Door: c.Door, ZoneTo: c.Zone, Camera: &event.Camera{ID: c.Camera}, Detail: d}
}

// mismatchAlarm is the badge/face mismatch, where the site asked for it: a
// guard looks at the still and the person; the door was not held for it.
func mismatchAlarm(cfg *config.Config, c camera.Comparison) (sekisho.Alarm, *event.Event, bool) {
	if c.Other == nil || cfg.Frigate == nil || !cfg.Frigate.Recognition.MismatchAlarm {
		return sekisho.Alarm{}, nil, false
	}
	a := sekisho.Alarm{Kind: sekisho.AlarmBadgeMismatch, Severity: sekisho.SeverityOf(sekisho.AlarmBadgeMismatch), Door: c.Door, PersonID: c.HolderID,
		Detail: fmt.Sprintf("%s's card at %s, but %s recognised %s (%s) and not %s", c.Holder, c.Door, c.Camera, c.Other.Name, score(c.Other.Score), c.Holder)}
	ev := &event.Event{Door: c.Door, ZoneTo: c.Zone, Camera: &event.Camera{ID: c.Camera},
		Detail: map[string]string{"for": c.Entry, "holder": c.Holder, "other": c.Other.Name, "other_score": score(c.Other.Score),
			"frigate_event": c.Other.Object, "frigate_camera": c.Other.Camera}}
	return a, ev, true
}

func score(s float64) string { return strconv.FormatFloat(s, 'f', 2, 64) }
