package camera

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Finding is a correlation alarm with the evidence behind it.
type Finding struct {
	Kind     sekisho.AlarmKind // tailgating, intrusion, phone
	Severity sekisho.Severity
	Door     string
	Zone     string
	Camera   string // Sekisho camera id
	Detail   string
	Evidence map[string]string
}

// Seen is a detection mapped onto the site: which camera, which zones.
type Seen struct {
	Detection
	CameraID  string
	SiteZones []string
	First     bool // the first time Sekisho hears of this object
}

// Correlator weighs what the cameras see against who badged. It is safe for
// use from several goroutines: grants come from the door loop, detections
// from the MQTT subscriber and due checks from a ticker.
type Correlator struct {
	cfg       *config.Config
	rules     config.FrigateSite
	occupancy func() map[string]int

	mu        sync.Mutex
	byFrigate map[string]config.Camera
	atDoor    map[string][]config.Camera // door → its cameras, made once
	seen      map[string]time.Time       // Frigate object ids heard of, for dedupe and pruning
	flagged   map[string]time.Time       // kind|object|zone already alarmed
	activity  map[string]time.Time       // zone → last badge in or out
	doors     map[string]*doorWatch      // door → grants and people its cameras saw
}

type doorWatch struct {
	grants []grant
	people []sighting
}

type grant struct {
	event string
	at    time.Time
}

type sighting struct {
	object string
	camera string
	at     time.Time
}

// NewCorrelator weighs detections for cfg's cameras; occupancy tells who the
// badges say is in each zone now.
func NewCorrelator(cfg *config.Config, occupancy func() map[string]int) *Correlator {
	c := &Correlator{
		cfg: cfg, occupancy: occupancy,
		byFrigate: map[string]config.Camera{}, atDoor: map[string][]config.Camera{},
		seen: map[string]time.Time{}, flagged: map[string]time.Time{},
		activity: map[string]time.Time{}, doors: map[string]*doorWatch{},
	}
	if cfg.Frigate != nil {
		c.rules = *cfg.Frigate
	}
	for _, cam := range cfg.Cameras {
		if cam.Frigate != nil {
			c.byFrigate[cam.Frigate.Camera] = cam
		}
	}
	for _, d := range cfg.Doors {
		if cams := cfg.CamerasAt(d.ID); len(cams) > 0 {
			c.atDoor[d.ID] = cams
		}
	}
	return c
}

// Camera maps Frigate's camera name to the site's camera.
func (c *Correlator) Camera(frigateName string) (config.Camera, bool) {
	cam, ok := c.byFrigate[frigateName]
	return cam, ok
}

// Urgent reports whether a detection may be a violation: a phone in a
// no-phones zone or a person in a restricted one. Those are never shed when
// Frigate's messages come faster than they are weighed. It reads only what
// was fixed at start, so paho's goroutines may call it.
func (c *Correlator) Urgent(d Detection) bool {
	cam, ok := c.byFrigate[d.Camera]
	if !ok || (d.Label != "person" && d.Label != "cell phone") {
		return false
	}
	for _, zid := range siteZones(cam, d.Zones) {
		zone, ok := c.cfg.Zone(zid)
		if ok && (d.Label == "cell phone" && zone.NoPhones || d.Label == "person" && zone.Restricted) {
			return true
		}
	}
	return false
}

// Grant notes a badge grant at a door: people through its cameras' view are
// counted against it, and the zones it joins had someone badge.
func (c *Correlator) Grant(eventID, door, zoneFrom, zoneTo string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.activity[zoneFrom], c.activity[zoneTo] = at, at
	if len(c.atDoor[door]) == 0 {
		return
	}
	w := c.watch(door)
	w.grants = append(w.grants, grant{event: eventID, at: at})
}

func (c *Correlator) watch(door string) *doorWatch {
	w := c.doors[door]
	if w == nil {
		w = &doorWatch{}
		c.doors[door] = w
	}
	return w
}

// Detect maps a detection onto the site and returns what it means at once:
// an intrusion or a phone in a no-phones zone. Tailgating waits for Due.
func (c *Correlator) Detect(d Detection, now time.Time) (Seen, []Finding, error) {
	cam, ok := c.byFrigate[d.Camera]
	if !ok {
		return Seen{}, nil, reject("unknown_camera", "Frigate camera %.60q is not mapped to a Sekisho camera", d.Camera)
	}
	s := Seen{Detection: d, CameraID: cam.ID, SiteZones: siteZones(cam, d.Zones)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, heard := c.seen[d.ID]; !heard {
		s.First = true
		c.seen[d.ID] = now
	}
	var out []Finding
	evidence := func() map[string]string {
		return map[string]string{"frigate_event": d.ID, "frigate_camera": d.Camera, "label": d.Label,
			"seen_at": d.Start.UTC().Format(time.RFC3339)}
	}
	if d.Label == "person" && s.First {
		for _, door := range cam.Doors {
			w := c.watch(door)
			w.people = append(w.people, sighting{object: d.ID, camera: cam.ID, at: d.Start})
		}
	}
	occupancy := c.occupancy()
	for _, zid := range s.SiteZones {
		zone, _ := c.cfg.Zone(zid)
		switch {
		case d.Label == "cell phone" && zone.NoPhones && c.flag("phone", d.ID, zid, now):
			out = append(out, Finding{Kind: sekisho.AlarmPhone, Severity: sekisho.Critical, Zone: zid, Camera: cam.ID, Evidence: evidence(),
				Detail: fmt.Sprintf("a phone seen by %s in %s, a no-phones zone (撮影禁止)", cam.ID, zid)})
		case d.Label == "person" && zone.Restricted:
			why := ""
			if occupancy[zid] == 0 && now.Sub(c.activity[zid]) > c.rules.Intrusion.Grace {
				why = "nobody has badged in"
			} else if !c.scheduled(zid, d.Start) {
				why = "outside every schedule that lets anyone in"
			}
			if why != "" && c.flag("intrusion", d.ID, zid, now) {
				out = append(out, Finding{Kind: sekisho.AlarmIntrusion, Severity: sekisho.Critical, Zone: zid, Camera: cam.ID, Evidence: evidence(),
					Detail: fmt.Sprintf("a person seen by %s in %s, and %s", cam.ID, zid, why)})
			}
		}
	}
	return s, out, nil
}

// flag reports whether kind was not yet raised for this object and zone,
// and remembers that it now is.
func (c *Correlator) flag(kind, object, zone string, now time.Time) bool {
	key := kind + "|" + object + "|" + zone
	if _, done := c.flagged[key]; done {
		return false
	}
	c.flagged[key] = now
	return true
}

// scheduled reports whether some access level lets anyone into zone at t.
func (c *Correlator) scheduled(zone string, t time.Time) bool {
	for _, l := range c.cfg.AccessLevels {
		if !slices.Contains(l.Zones, zone) {
			continue
		}
		if l.Schedule == "" || c.cfg.Windows[l.Schedule].AllowsOn(t.In(c.cfg.Location), c.cfg.IsHoliday(t)) {
			return true
		}
	}
	return false
}

// siteZones maps Frigate's zones on a camera to the site's. A camera with
// no zone map watches its own zone only.
func siteZones(cam config.Camera, frigateZones []string) []string {
	if cam.Frigate == nil || len(cam.Frigate.Zones) == 0 {
		return []string{cam.Zone}
	}
	var out []string
	for _, fz := range frigateZones {
		if z, ok := cam.Frigate.Zones[fz]; ok && !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	return out
}

// Counting says whether a tailgating window is still open at door: the
// grants there are not yet weighed against the people seen.
func (c *Correlator) Counting(door string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.doors[door]
	return ok && len(w.grants) > 0
}

// settle is how long after a tailgating window closes Sekisho still waits
// for Frigate's messages about it.
const settle = time.Second

// Due closes the tailgating windows that have ended by now: more people
// through a door's camera view than the grants admitted is an alarm. It
// also forgets what is too old to matter.
func (c *Correlator) Due(now time.Time) []Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	win, before := c.rules.Tailgating.Window, c.rules.Tailgating.Before
	var out []Finding
	doors := make([]string, 0, len(c.doors))
	for d := range c.doors {
		doors = append(doors, d)
	}
	sort.Strings(doors)
	for _, door := range doors {
		w := c.doors[door]
		for len(w.grants) > 0 && now.After(w.grants[0].at.Add(win+settle)) {
			from, to := w.grants[0].at.Add(-before), w.grants[0].at.Add(win)
			var admitted []string
			for len(w.grants) > 0 && !w.grants[0].at.After(to) {
				admitted = append(admitted, w.grants[0].event)
				w.grants = w.grants[1:]
			}
			var people []string
			rest := w.people[:0]
			for _, p := range w.people {
				switch {
				case !p.at.Before(from) && !p.at.After(to):
					people = append(people, p.object)
				case p.at.After(to):
					rest = append(rest, p)
				}
			}
			w.people = rest
			if len(people) > len(admitted) {
				cams := c.atDoor[door]
				out = append(out, Finding{Kind: sekisho.AlarmTailgating, Severity: sekisho.Critical, Door: door, Camera: cams[0].ID,
					Detail: fmt.Sprintf("%d people through %s within %v of %d grant(s)", len(people), door, win, len(admitted)),
					Evidence: map[string]string{"grants": strings.Join(admitted, ","), "frigate_events": strings.Join(people, ","),
						"people": fmt.Sprint(len(people)), "admitted": fmt.Sprint(len(admitted))}})
			}
		}
		// People seen with no grant near them are old news once the window passes.
		keep := w.people[:0]
		for _, p := range w.people {
			if now.Sub(p.at) < win+before+settle || len(w.grants) > 0 {
				keep = append(keep, p)
			}
		}
		w.people = keep
	}
	for id, at := range c.seen {
		if now.Sub(at) > time.Hour {
			delete(c.seen, id)
		}
	}
	for k, at := range c.flagged {
		if now.Sub(at) > time.Hour {
			delete(c.flagged, k)
		}
	}
	return out
}
