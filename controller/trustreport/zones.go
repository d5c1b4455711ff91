package trustreport

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// passage is the part of a logged event the report reads: decoding no more
// of each is most of what makes a quarter's report quick.
type passage struct {
	ID       string            `json:"id"`
	Seq      int64             `json:"seq"`
	Time     time.Time         `json:"time"`
	Type     string            `json:"type"`
	Door     string            `json:"door"`
	ZoneFrom string            `json:"zone_from"`
	ZoneTo   string            `json:"zone_to"`
	Visit    string            `json:"visit"`
	Actor    string            `json:"actor"`
	Person   *event.Person     `json:"person"`
	Camera   *event.Camera     `json:"camera"`
	Detail   map[string]string `json:"detail"`
}

// span is the earliest start and latest end of stays.
func span(stays []Presence) (time.Time, time.Time) {
	from, to := stays[0].From, stays[0].To
	for _, p := range stays[1:] {
		if p.From.Before(from) {
			from = p.From
		}
		if p.To.After(to) {
			to = p.To
		}
	}
	return from, to
}

// readZone reads the zone's entries, exits, stills and cover checks while
// the company's assets were in it.
func (r *Report) readZone(ctx context.Context, log *store.Store, zone string, stays []Presence, q Query) error {
	from, to := span(stays)
	// Each page's entries in a slice of their own, made to size, and all of
	// them put together once at the end: a quarter is hundreds of
	// thousands, and growing one slice to that copies them over and over.
	var pages [][]Entry
	var entries []Entry
	exits := map[string][]passage{}  // person → exits from the zone
	stills := map[string][]Still{}   // entry event id → its stills
	covers := map[string][]passage{} // visit → cover confirmations for the zone
	err := store.Pages(ctx, log, store.Filter{Zone: zone, Since: from, Until: to}, func(evs []passage) error {
		entries = make([]Entry, 0, len(evs))
		defer func() { pages = append(pages, entries) }()
		for _, ev := range evs {
			switch {
			case ev.Type == event.AccessGranted && ev.ZoneTo == zone && ev.Person != nil && within(stays, ev.Time):
				entries = append(entries, Entry{Seq: ev.Seq, Time: ev.Time, Zone: zone, Door: ev.Door, Visit: ev.Visit, id: ev.ID,
					Person: Person{ID: ev.Person.ID, Name: ev.Person.Name, Kind: ev.Person.Kind, Company: ev.Person.Company}})
			case ev.Type == event.AccessGranted && ev.ZoneFrom == zone && ev.Person != nil:
				exits[ev.Person.ID] = append(exits[ev.Person.ID], ev)
			case ev.Type == event.CameraSnapshot && ev.Camera != nil && ev.Camera.SnapshotSHA256 != "":
				f := ev.Detail["for"]
				stills[f] = append(stills[f], Still{Camera: ev.Camera.ID, SHA256: ev.Camera.SnapshotSHA256, Seq: ev.Seq})
			case ev.Type == event.CoverConfirmed && ev.ZoneTo == zone && ev.Visit != "":
				covers[ev.Visit] = append(covers[ev.Visit], ev)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	total := 0
	for _, p := range pages {
		total += len(p)
	}
	entries = make([]Entry, 0, total)
	for _, p := range pages {
		entries = append(entries, p...)
	}
	for _, list := range exits {
		slices.SortFunc(list, func(a, b passage) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	for i := range entries {
		e := &entries[i]
		for _, x := range exits[e.Person.ID] {
			if x.Seq > e.Seq {
				e.Exit, e.ExitSeq = x.Time, x.Seq
				break
			}
		}
	}
	for i := range entries {
		// A still names the entry it was taken for by the entry's id.
		e := &entries[i]
		e.Stills = append([]Still{}, stills[e.id]...)
		slices.SortFunc(e.Stills, func(a, b Still) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	for _, e := range entries {
		if e.Person.Kind == sekisho.KindVisitor && e.Visit != "" && !strings.EqualFold(strings.TrimSpace(e.Person.Company), strings.TrimSpace(q.Company)) {
			r.Visits = append(r.Visits, r.cover(e, covers[e.Visit], stays))
		}
	}
	if len(r.Entries) == 0 && len(entries) > 0 {
		r.Entries = entries // a zone's entries, newest first, as read
	} else {
		r.Entries = append(r.Entries, entries...)
	}
	return nil
}

// cover is the cover check for a visitor's entry: the latest confirmation
// for the visit and zone before the entry that covered every one of the
// company's assets there at that moment.
func (r *Report) cover(e Entry, confirmed []passage, stays []Presence) Cover {
	c := Cover{Visit: e.Visit, Visitor: e.Person.Name, Company: e.Person.Company, Zone: e.Zone, Entered: e.Time, EntrySeq: e.Seq, Missing: true}
	var here []string
	for _, p := range stays {
		if !e.Time.Before(p.From) && e.Time.Before(p.To) {
			here = append(here, p.Asset)
		}
	}
	for _, ev := range confirmed {
		if ev.Seq > e.Seq {
			continue
		}
		covered := strings.Split(ev.Detail["assets"], ",")
		all := true
		for _, a := range here {
			all = all && slices.Contains(covered, a)
		}
		if all && ev.Seq > c.Seq {
			c.By, c.At, c.Seq, c.Missing = ev.Actor, ev.Time, ev.Seq, false
		}
	}
	return c
}

// readAlarms keeps the alarms raised in the zones while the company's
// assets were there: an alarm's zone is its own, or the one its door
// leads into.
func (r *Report) readAlarms(ctx context.Context, cfg *config.Config, log *store.Store, byZone map[string][]Presence) error {
	if len(byZone) == 0 {
		return nil
	}
	var from, to time.Time
	for _, stays := range byZone {
		f, t := span(stays)
		if from.IsZero() || f.Before(from) {
			from = f
		}
		if t.After(to) {
			to = t
		}
	}
	into := map[string]string{}
	for _, d := range cfg.Doors {
		into[d.ID] = d.To
	}
	return store.Pages(ctx, log, store.Filter{Type: event.AlarmRaised, Since: from, Until: to}, func(evs []passage) error {
		for _, ev := range evs {
			zone := cmp.Or(ev.ZoneTo, ev.ZoneFrom, into[ev.Door])
			if stays, ok := byZone[zone]; !ok || !within(stays, ev.Time) {
				continue
			}
			kind := ev.Detail["kind"]
			r.Alarms = append(r.Alarms, Alarm{Seq: ev.Seq, Time: ev.Time, Kind: kind, Zone: zone, Door: ev.Door, Detail: ev.Detail["detail"],
				Camera: kind == string(sekisho.AlarmTailgating) || kind == string(sekisho.AlarmIntrusion)})
		}
		return nil
	})
}

// groups are the people who entered, by kind, and for contractors and
// visitors by company; most entries first.
func groups(entries []Entry) []Group {
	type key struct{ kind, company string }
	counts := map[key]map[string]*PersonCount{}
	for _, e := range entries {
		k := key{e.Person.Kind, ""}
		if e.Person.Kind != sekisho.KindEmployee {
			k.company = e.Person.Company
		}
		if counts[k] == nil {
			counts[k] = map[string]*PersonCount{}
		}
		pc := counts[k][e.Person.ID]
		if pc == nil {
			pc = &PersonCount{Person: e.Person}
			counts[k][e.Person.ID] = pc
		}
		pc.Entries++
	}
	order := map[string]int{sekisho.KindEmployee: 0, sekisho.KindContractor: 1, sekisho.KindVisitor: 2}
	out := []Group{}
	for k, people := range counts {
		g := Group{Kind: k.kind, Company: k.company}
		for _, pc := range people {
			g.People = append(g.People, *pc)
		}
		slices.SortFunc(g.People, func(a, b PersonCount) int {
			return cmp.Or(cmp.Compare(b.Entries, a.Entries), cmp.Compare(a.Name, b.Name))
		})
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Group) int {
		return cmp.Or(cmp.Compare(order[a.Kind], order[b.Kind]), cmp.Compare(a.Company, b.Company))
	})
	return out
}
