// Package trustreport builds the report a customer asks for: "who was near
// our tooling last quarter, and can you prove the list is complete?" For a
// company and a period it lists every entry to a zone while one of that
// company's assets was there, who made it (employees, contractors, visitors
// by company), each other company's visit with its cover confirmation or
// its absence flagged, the camera still's hash of each entry, and the
// alarms in those zones; it says what the log's proofs cover and what they
// cannot. Nothing about another customer's assets is in it.
package trustreport

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/assets"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// Query is one report's subject: a company and a period of the site's days
// [From, To), and the zones the reader answers for (empty: every zone).
type Query struct {
	Company  string
	From, To time.Time
	Zones    []string
}

// Report is the customer's trust report.
type Report struct {
	Site      string      `json:"site"`
	SiteName  string      `json:"site_name"`
	Company   string      `json:"company"`
	From      string      `json:"from"` // the first day
	To        string      `json:"to"`   // the last day
	TimeZone  string      `json:"time_zone"`
	Start     time.Time   `json:"start"` // the first day's midnight
	End       time.Time   `json:"end"`   // the midnight after the last day
	Generated time.Time   `json:"generated"`
	Assets    []Presence  `json:"assets"`       // where each of the company's assets was, zone by zone
	Entries   []Entry     `json:"entries"`      // every entry to such a zone while an asset was there
	People    []Group     `json:"people"`       // who made them: employees, contractors, visitors by company
	Visits    []Cover     `json:"other_visits"` // other companies' visitors in such a zone, with their cover check
	Alarms    []Alarm     `json:"alarms"`       // alarms in those zones while an asset was there
	Proof     *ProofState `json:"proof,omitempty"`
	// Completeness: what the proofs cover and what they cannot, ja and en.
	Completeness map[string]Statement `json:"completeness"`
}

// Presence is one asset in one zone for a while (To zero: still there at
// the end of the period).
type Presence struct {
	Asset       string    `json:"asset"`
	Description string    `json:"description,omitempty"`
	Zone        string    `json:"zone"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Ongoing     bool      `json:"ongoing"`  // still there when the period ended
	MovedBy     string    `json:"moved_by"` // who put it there (an admin, or the config)
	Seq         int64     `json:"seq"`      // the registration or move that put it there
}

// Entry is one entry to a zone, with its exit where the log has one.
type Entry struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Zone    string    `json:"zone"`
	Door    string    `json:"door"`
	Person  Person    `json:"person"`
	Visit   string    `json:"visit,omitempty"`
	Exit    time.Time `json:"exit,omitzero"`     // the exit swipe out of the zone, if any
	ExitSeq int64     `json:"exit_seq,omitzero"` // its event
	Stills  []Still   `json:"stills"`
	id      string    // the entry event's id, which its stills name
}

// Person is who entered, as the log named them then.
type Person struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Company string `json:"company,omitempty"`
}

// Still is a camera's picture of an entry: the file's SHA-256, as logged.
type Still struct {
	Camera string `json:"camera"`
	SHA256 string `json:"sha256"`
	Seq    int64  `json:"seq"`
}

// Group is the people of one kind (and, for visitors and contractors, one
// company) who entered, with how often.
type Group struct {
	Kind    string        `json:"kind"`
	Company string        `json:"company,omitempty"`
	People  []PersonCount `json:"people"`
}

// PersonCount is one person's entries.
type PersonCount struct {
	Person
	Entries int `json:"entries"`
}

// Cover is one visit by another company to a zone holding the company's
// asset: who confirmed the asset covered, and when, or Missing.
type Cover struct {
	Visit    string    `json:"visit"`
	Visitor  string    `json:"visitor"`
	Company  string    `json:"company"`
	Zone     string    `json:"zone"`
	Entered  time.Time `json:"entered"`
	EntrySeq int64     `json:"entry_seq"`
	By       string    `json:"confirmed_by,omitempty"`
	At       time.Time `json:"confirmed_at,omitzero"`
	Seq      int64     `json:"confirmed_seq,omitzero"`
	Missing  bool      `json:"missing"` // entered with no confirmation logged: flagged
}

// Alarm is an alarm raised in a zone while an asset was there.
type Alarm struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Zone   string    `json:"zone"`
	Door   string    `json:"door,omitempty"`
	Detail string    `json:"detail,omitempty"`
	// Camera: found by the cameras (tailgating, intrusion): what a proof
	// of the badge log cannot show, someone who entered without badging.
	Camera bool `json:"camera"`
}

// ProofState says which checkpoints vouch for the report.
type ProofState struct {
	VerifierKey string `json:"verifier_key"`
	First       int64  `json:"first_size"` // the checkpoint before the period
	Last        int64  `json:"last_size"`  // the one after it, that every proof is under
}

// Seqs are the events the report rests on, each once, in order.
func (r *Report) Seqs() []int64 {
	var out []int64
	for _, p := range r.Assets {
		out = append(out, p.Seq)
	}
	for _, e := range r.Entries {
		out = append(out, e.Seq)
		if e.ExitSeq > 0 {
			out = append(out, e.ExitSeq)
		}
		for _, s := range e.Stills {
			out = append(out, s.Seq)
		}
	}
	for _, c := range r.Visits {
		if c.Seq > 0 {
			out = append(out, c.Seq)
		}
	}
	for _, a := range r.Alarms {
		out = append(out, a.Seq)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ErrOutsideZones marks a report that reaches zones its reader does not
// answer for.
var ErrOutsideZones = fmt.Errorf("the company's assets were in zones you do not answer for: %w", sekisho.ErrConflict)

// Build makes the report of q from the log.
func Build(ctx context.Context, cfg *config.Config, log *store.Store, q Query, now time.Time) (*Report, error) {
	r := &Report{Site: cfg.Site, SiteName: cfg.Name, Company: q.Company, TimeZone: cfg.Location.String(), Generated: now.UTC(), Start: q.From, End: q.To,
		From: q.From.In(cfg.Location).Format(time.DateOnly), To: q.To.Add(-time.Nanosecond).In(cfg.Location).Format(time.DateOnly),
		Assets: []Presence{}, Entries: []Entry{}, People: []Group{}, Visits: []Cover{}, Alarms: []Alarm{},
		Completeness: map[string]Statement{"ja": Completeness("ja"), "en": Completeness("en")}}
	steps, err := assets.Steps(ctx, log)
	if err != nil {
		return nil, err
	}
	r.Assets = presences(steps, q, cfg)
	if len(q.Zones) > 0 {
		for _, p := range r.Assets {
			if !slices.Contains(q.Zones, p.Zone) {
				return nil, fmt.Errorf("%s was in %s: %w", p.Asset, p.Zone, ErrOutsideZones)
			}
		}
	}
	byZone := map[string][]Presence{}
	for _, p := range r.Assets {
		byZone[p.Zone] = append(byZone[p.Zone], p)
	}
	for _, zone := range slices.Sorted(maps.Keys(byZone)) {
		if err := r.readZone(ctx, log, zone, byZone[zone], q); err != nil {
			return nil, err
		}
	}
	if err := r.readAlarms(ctx, cfg, log, byZone); err != nil {
		return nil, err
	}
	byTime := func(a, b Entry) int { return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Seq, b.Seq)) }
	// The log reads newest first: turned round, a quarter's entries are
	// nearly always in order already, and sorting a few hundred thousand
	// of them costs more than the rest of the report.
	slices.Reverse(r.Entries)
	if !slices.IsSortedFunc(r.Entries, byTime) {
		slices.SortStableFunc(r.Entries, byTime)
	}
	slices.SortFunc(r.Visits, func(a, b Cover) int { return cmp.Compare(a.EntrySeq, b.EntrySeq) })
	slices.SortFunc(r.Alarms, func(a, b Alarm) int { return cmp.Compare(a.Seq, b.Seq) })
	r.People = groups(r.Entries)
	return r, nil
}

// presences are the company's assets' stays, clipped to the period.
func presences(steps []assets.Step, q Query, cfg *config.Config) []Presence {
	desc := map[string]string{}
	for _, a := range cfg.Assets {
		desc[a.ID] = a.Description
	}
	open := map[string]*Presence{}
	var all []Presence
	for _, s := range steps {
		if !strings.EqualFold(strings.TrimSpace(s.Owner), strings.TrimSpace(q.Company)) {
			continue // nothing about another customer's assets
		}
		if p := open[s.Asset]; p != nil {
			p.To = s.Time
			all = append(all, *p)
		}
		open[s.Asset] = &Presence{Asset: s.Asset, Description: desc[s.Asset], Zone: s.To, From: s.Time, MovedBy: s.By, Seq: s.Seq}
	}
	for _, id := range slices.Sorted(maps.Keys(open)) {
		all = append(all, *open[id])
	}
	var out []Presence
	for _, p := range all {
		if !p.To.IsZero() && !p.To.After(q.From) || !p.From.Before(q.To) {
			continue
		}
		p.From = later(p.From, q.From)
		if p.To.IsZero() || p.To.After(q.To) {
			p.To, p.Ongoing = q.To, true
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Presence) int { return cmp.Or(cmp.Compare(a.Asset, b.Asset), a.From.Compare(b.From)) })
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// within says whether t is in one of the stays.
func within(stays []Presence, t time.Time) bool {
	for _, p := range stays {
		if !t.Before(p.From) && t.Before(p.To) {
			return true
		}
	}
	return false
}
