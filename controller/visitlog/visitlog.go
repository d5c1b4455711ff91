// Package visitlog builds the daily visitor log the casebook describes —
// お客様の入退室記入 — from the visits and the chained event log: who, from
// which company, whose guest, why, the NDA, the briefing, the badge, when
// they came and left, and every restricted zone they entered, when, for how
// long and with whom.
package visitlog

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/sheet"
	"github.com/sekisho/sekisho/controller/store"
)

// Row is one visit in the log.
type Row struct {
	sekisho.Visit
	Badge      string   `json:"badge"`
	TimeIn     string   `json:"time_in"`
	TimeOut    string   `json:"time_out"`
	Restricted []Stay   `json:"restricted"`
	Covers     []string `json:"covers"` // zones whose covers were confirmed, with who confirmed
	// Refusals are the doors that said no to the visitor's badge, and why:
	// a badge short of a zone, covers not yet confirmed, no escort.
	Refusals []Refusal `json:"refusals"`
}

// Refusal is one door that refused the visitor's badge.
type Refusal struct {
	At     string `json:"at"`
	Door   string `json:"door"`
	Zone   string `json:"zone"` // where the visitor wanted to go
	Reason string `json:"reason"`
}

// Stay is a time inside a restricted zone, with the stills of the entry.
type Stay struct {
	Zone   string  `json:"zone"`
	In     string  `json:"in"`
	Out    string  `json:"out"`
	Escort string  `json:"escort"`
	Stills []Still `json:"stills"`
}

// Still is a camera's picture of an entry, as the log keeps it.
type Still struct {
	Camera     string `json:"camera"`
	File       string `json:"file"`
	SHA256     string `json:"sha256"`
	FrigateURL string `json:"frigate_url,omitempty"`
}

// Build makes the log of day (YYYY-MM-DD) from the store.
func Build(ctx context.Context, st *store.Store, cfg *config.Config, day string) ([]Row, error) {
	visits, err := st.Visits(ctx, day)
	if err != nil {
		return nil, err
	}
	clock := func(t time.Time) string { return t.In(cfg.Location).Format("15:04") }
	stamp := func(s string) string {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return clock(t)
		}
		return ""
	}
	rows := make([]Row, 0, len(visits))
	for _, v := range visits {
		r := Row{Visit: v, TimeIn: stamp(v.CheckedIn), TimeOut: stamp(v.CheckedOut), Refusals: []Refusal{}}
		evs, err := st.Events(ctx, store.Filter{Visit: v.ID, Limit: store.MaxLimit})
		if err != nil {
			return nil, err
		}
		open := map[string]int{}             // zone → index of the open stay
		entry := map[string]int{}            // the entry's event id → its stay
		for i := len(evs) - 1; i >= 0; i-- { // oldest first
			ev := evs[i]
			switch ev.Type {
			case event.VisitorCheckedIn:
				if ev.Credential != nil {
					r.Badge = strconv.FormatUint(ev.Credential.Number, 10)
				}
			case event.CoverConfirmed:
				r.Covers = append(r.Covers, ev.ZoneTo+" ("+ev.Detail["assets"]+", "+ev.Actor+")")
			case event.CameraSnapshot:
				if j, ok := entry[ev.Detail["for"]]; ok && ev.Camera != nil && ev.Detail["file"] != "" {
					r.Restricted[j].Stills = append(r.Restricted[j].Stills, Still{Camera: ev.Camera.ID, File: ev.Detail["file"],
						SHA256: ev.Camera.SnapshotSHA256, FrigateURL: ev.Detail["frigate_url"]})
				}
			case event.AccessDenied:
				r.Refusals = append(r.Refusals, Refusal{At: clock(ev.Time), Door: ev.Door, Zone: ev.ZoneTo, Reason: ev.Reason})
			case event.AccessGranted:
				if z, ok := cfg.Zone(ev.ZoneTo); ok && z.Restricted {
					open[ev.ZoneTo], entry[ev.ID] = len(r.Restricted), len(r.Restricted)
					r.Restricted = append(r.Restricted, Stay{Zone: ev.ZoneTo, In: clock(ev.Time), Escort: ev.Detail["with_name"], Stills: []Still{}})
				}
				if z, ok := cfg.Zone(ev.ZoneFrom); ok && z.Restricted {
					if j, ok := open[ev.ZoneFrom]; ok {
						r.Restricted[j].Out = clock(ev.Time)
						delete(open, ev.ZoneFrom)
					}
				}
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// WriteCSV writes the log as CSV, one row per visit, restricted stays joined.
func WriteCSV(w io.Writer, day string, rows []Row) error {
	cw := sheet.NewWriter(w) // what the desk typed stays text in a spreadsheet
	cw.Write([]string{"date", "name", "company", "host", "purpose", "nda_ref", "briefed_by", "phone_locker", "badge", "time_in", "restricted_zones", "covers", "time_out", "status", "refusals"})
	for _, r := range rows {
		var stays []string
		for _, s := range r.Restricted {
			part := s.Zone + " " + s.In + "–" + s.Out
			if s.Escort != "" {
				part += " with " + s.Escort
			}
			for _, st := range s.Stills {
				part += " [" + st.Camera + " sha256:" + st.SHA256 + "]"
			}
			stays = append(stays, part)
		}
		var refusals []string
		for _, f := range r.Refusals {
			refusals = append(refusals, f.At+" "+f.Door+" "+f.Reason)
		}
		cw.Write([]string{day, r.Name, r.Company, r.HostName, r.Purpose, r.NDARef, r.BriefedBy, r.PhoneLocker, r.Badge,
			r.TimeIn, strings.Join(stays, "; "), strings.Join(r.Covers, "; "), r.TimeOut, r.Status, strings.Join(refusals, "; ")})
	}
	return cw.Flush()
}
