package camera

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/sekisho/sekisho/controller/config"
)

// maxHeard bounds the recognitions kept for comparison: a flood of them
// (a crowd, or someone on the LAN speaking as Frigate) costs memory once.
const maxHeard = 4096

// Recognizer puts the names Frigate recognised at a door's cameras beside
// the badge grants at that door: who the card says went through, who the
// camera says it saw. It keeps the comparison, never a face. It is safe
// for use from several goroutines: grants come from the log's observer,
// recognitions from the MQTT subscriber and due checks from a ticker.
type Recognizer struct {
	rules   config.RecognitionRule
	cams    map[string]config.Camera // Frigate's camera name → the site's camera
	watched map[string]bool          // doors a Frigate camera looks at

	mu     sync.Mutex
	grants map[string][]badgeGrant // door → its grants, oldest first
	heard  []Recognition           // recent, as they came
}

type badgeGrant struct {
	event    string
	seq      int64
	door     string
	zone     string
	personID string
	name     string
	at       time.Time
	weighed  bool
}

// Comparison is what the cameras recognised around one grant.
type Comparison struct {
	Entry    string // the grant's event id
	EntrySeq int64
	Door     string
	Zone     string // where the grant led
	Camera   string // the site's camera that recognised the first of Heard
	HolderID string
	Holder   string        // the badge holder's name
	Heard    []Recognition // each name once, at its best score, best first
	// HolderSeen: the holder's own face was among them.
	HolderSeen bool
	// Other is a face naming someone else at or over the site's
	// threshold, when the holder's face was not seen and no other grant at
	// the door in the window explains it: the card may be in another's hand.
	Other *Recognition
}

// NewRecognizer compares recognitions with grants for cfg's Frigate cameras.
func NewRecognizer(cfg *config.Config) *Recognizer {
	r := &Recognizer{cams: map[string]config.Camera{}, watched: map[string]bool{}, grants: map[string][]badgeGrant{}}
	if cfg.Frigate != nil {
		r.rules = cfg.Frigate.Recognition
	}
	for _, cam := range cfg.Cameras {
		if cam.Frigate == nil {
			continue
		}
		r.cams[cam.Frigate.Camera] = cam
		for _, d := range cam.Doors {
			r.watched[d] = true
		}
	}
	return r
}

// Grant notes a badge grant at a door a Frigate camera looks at.
func (r *Recognizer) Grant(eventID string, seq int64, door, zone, personID, name string, at time.Time) {
	if !r.watched[door] {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.grants[door] = append(r.grants[door], badgeGrant{event: eventID, seq: seq, door: door, zone: zone, personID: personID, name: name, at: at})
}

// Heard keeps a recognition for the grants around it.
func (r *Recognizer) Heard(rec Recognition) error {
	if _, ok := r.cams[rec.Camera]; !ok {
		return reject("unknown_camera", "Frigate camera %.60q is not mapped to a Sekisho camera", rec.Camera)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.heard) >= maxHeard {
		r.heard = slices.Delete(r.heard, 0, len(r.heard)-maxHeard+1)
	}
	r.heard = append(r.heard, rec)
	return nil
}

// Due weighs the grants whose window has passed (and Frigate's messages
// about it have had a moment to arrive); each with a name recognised
// around it is a Comparison. It also forgets what is too old to matter.
func (r *Recognizer) Due(now time.Time) []Comparison {
	r.mu.Lock()
	defer r.mu.Unlock()
	win := r.rules.Window
	var out []Comparison
	for _, door := range slices.Sorted(maps.Keys(r.grants)) {
		gs := r.grants[door]
		for i := range gs {
			g := &gs[i]
			if g.weighed || !now.After(g.at.Add(win+settle)) {
				continue
			}
			g.weighed = true
			if c, ok := r.compare(*g, gs); ok {
				out = append(out, c)
			}
		}
		// A weighed grant stays while a later one's window may still
		// reach back to it: its holder explains a face near both.
		keep := gs[:0]
		for _, g := range gs {
			if !g.weighed || now.Sub(g.at) < 3*win+settle {
				keep = append(keep, g)
			}
		}
		if len(keep) == 0 {
			delete(r.grants, door)
		} else {
			r.grants[door] = keep
		}
	}
	keep := r.heard[:0]
	for _, h := range r.heard {
		if now.Sub(h.At) < 3*win+settle+time.Minute {
			keep = append(keep, h)
		}
	}
	r.heard = keep
	return out
}

// compare weighs one grant against the recognitions at its door's cameras
// within the window either side of it; nearby are the door's grants.
func (r *Recognizer) compare(g badgeGrant, nearby []badgeGrant) (Comparison, bool) {
	win := r.rules.Window
	from, to := g.at.Add(-win), g.at.Add(win)
	best := map[string]Recognition{}
	for _, h := range r.heard {
		cam := r.cams[h.Camera]
		if !slices.Contains(cam.Doors, g.door) || h.At.Before(from) || h.At.After(to) {
			continue
		}
		key := h.Kind + "|" + sameName(h.Name)
		if b, ok := best[key]; !ok || h.Score > b.Score {
			best[key] = h
		}
	}
	if len(best) == 0 {
		return Comparison{}, false
	}
	c := Comparison{Entry: g.event, EntrySeq: g.seq, Door: g.door, Zone: g.zone, HolderID: g.personID, Holder: g.name}
	for _, h := range best {
		c.Heard = append(c.Heard, h)
	}
	slices.SortFunc(c.Heard, func(a, b Recognition) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Name, b.Name))
	})
	c.Camera = r.cams[c.Heard[0].Camera].ID
	explained := func(name string) bool {
		for _, o := range nearby {
			if !o.at.Before(from) && !o.at.After(to) && names(name, o.name, o.personID) {
				return true
			}
		}
		return false
	}
	for _, h := range c.Heard {
		if h.Kind == RecognizedFace && names(h.Name, g.name, g.personID) {
			c.HolderSeen = true
		}
	}
	if !c.HolderSeen {
		for _, h := range c.Heard { // best first
			if h.Kind == RecognizedFace && h.Score >= r.rules.Threshold && !explained(h.Name) {
				c.Other = &h
				c.Camera = r.cams[h.Camera].ID
				break
			}
		}
	}
	return c, true
}

// names reports whether a name from Frigate's face library is the person
// with this name or id: faces are filed there under the person's name as
// Sekisho knows it (or their id), written with any spacing or case.
func names(recognised, name, id string) bool {
	n := sameName(recognised)
	return n != "" && (n == sameName(name) || n == sameName(id))
}

// sameName folds the ways one name gets written: case, spaces (full-width
// too), underscores, hyphens and dots.
func sameName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '.' || r == '・' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}
