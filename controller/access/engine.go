package access

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Engine adds the rules that remember: who is where (anti-passback,
// two-person, occupancy and muster), cards waiting for their escort or second
// person, bad cards counted per reader (lockout), and lockdown. The site's
// loop calls it one card at a time; the API reads it from other goroutines.
type Engine struct {
	Decider

	mu        sync.Mutex
	presence  map[string]Presence // person id → where they are
	zoneCount map[string]int      // zone → how many of presence are in it
	held      map[string][]held   // door id → cards waiting for a partner
	escorts   map[string]escort   // door id → the last escort through it
	failures  map[string][]time.Time
	lockedOut map[string]time.Time // reader → until
	lockdown  bool
	token     int
}

// Presence is where a person was last let in.
type Presence struct {
	PersonID string    `json:"person_id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Company  string    `json:"company"`
	Zone     string    `json:"zone"`
	Door     string    `json:"door"`
	At       time.Time `json:"at"`
	Visit    string    `json:"visit,omitempty"`
	// Where is "desk" for a visitor checked in and not yet through a door:
	// last seen at the desk, At being the check-in.
	Where string `json:"where,omitempty"`
}

type held struct {
	token  int
	dec    Decision
	at     time.Time
	reason string // the denial if nobody comes
}

type escort struct {
	person sekisho.Person
	zone   string
	until  time.Time
}

// Outcome is what one card leads to.
type Outcome struct {
	// Decisions to log, in order: one, or a pair let through together.
	Decisions []Decision
	// Unlock the door (once, for everyone in Decisions that was granted).
	Unlock bool
	// Hold > 0: a card waits for a partner; call Expire(door, Token) then.
	Hold  time.Duration
	Token int
	// Alarms to raise.
	Alarms []Alarm
}

// Alarm is one the engine raises.
type Alarm struct {
	Kind                           sekisho.AlarmKind
	Severity                       sekisho.Severity
	Reader, Door, PersonID, Detail string
}

// NewEngine starts with nobody inside.
func NewEngine(d Decider) *Engine {
	return &Engine{Decider: d, presence: map[string]Presence{}, zoneCount: map[string]int{}, held: map[string][]held{},
		escorts: map[string]escort{}, failures: map[string][]time.Time{}, lockedOut: map[string]time.Time{}}
}

// Card judges one card at one reader.
func (e *Engine) Card(ctx context.Context, req Request) (Outcome, error) {
	cfg := e.Config
	door, _, ok := cfg.ReaderDoor(req.Reader)
	if !ok {
		return Outcome{}, ErrUnknownReader
	}
	e.mu.Lock()
	until, locked := e.lockedOut[req.Reader]
	e.mu.Unlock()
	if locked && req.At.Before(until) {
		dec, err := e.Decide(ctx, req)
		if err != nil {
			return Outcome{}, err
		}
		dec.Type, dec.Reason = event.AccessDenied, event.ReasonLockedOut
		return Outcome{Decisions: []Decision{dec}}, nil
	}
	dec, err := e.Decide(ctx, req)
	if err != nil {
		return Outcome{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	deny := func(reason string) (Outcome, error) {
		dec.Type, dec.Reason = event.AccessDenied, reason
		return Outcome{Decisions: []Decision{dec}}, nil
	}
	switch dec.Type {
	case event.AccessDenied:
		out := Outcome{Decisions: []Decision{dec}}
		if countsAsBad(dec.Reason) {
			out.Alarms = e.countFailure(req.Reader, door.ID, req.At)
		}
		return out, nil
	case event.AccessRequested:
		return Outcome{Decisions: []Decision{dec}}, nil
	}
	person := *dec.Person
	to, _ := cfg.Zone(dec.To)
	from, _ := cfg.Zone(dec.From)

	if e.lockdown && to.Restricted && !e.exempt(person) {
		return deny(event.ReasonLockdown)
	}
	var out Outcome
	if door.AntiPassback != "none" {
		if p, ok := e.presence[person.ID]; ok && p.Zone == dec.To && req.At.Sub(p.At) < cfg.Access.AntiPassbackReset {
			if door.AntiPassback == "hard" {
				return deny(event.ReasonAntiPassback)
			}
			dec.Violation = event.ReasonAntiPassback
			out.Alarms = append(out.Alarms, Alarm{Kind: sekisho.AlarmAntiPassback, Severity: sekisho.Warning, Reader: req.Reader, Door: door.ID,
				PersonID: person.ID, Detail: person.Name + " was already in " + dec.To})
		}
	}
	if from.TwoPerson && person.Kind != "visitor" {
		staff, visitors := e.countIn(dec.From)
		if visitors > 0 && staff <= 2 {
			return deny(event.ReasonTwoPersonRule)
		}
	}

	// Escort: the visitor's card and an escort's, at this door, within the
	// delay, in either order; the door opens once for both.
	if slices.Contains(to.EscortRequired, person.Kind) {
		if esc, ok := e.escorts[door.ID]; ok && req.At.Before(esc.until) && esc.zone == dec.To {
			p := esc.person
			dec.Partner = &p
			out.Decisions, out.Unlock = []Decision{dec}, true
			e.arrive(dec, door, req.At)
			return out, nil
		}
		return e.hold(door, dec, req.At, event.ReasonEscortRequired, cfg.Access.EscortDelay), nil
	}

	// Two-person: nobody enters an empty two-person zone alone.
	if to.TwoPerson && person.Kind != "visitor" {
		if staff, _ := e.countIn(dec.To); staff == 0 {
			first, ok := e.takeHeld(door.ID, req.At, func(h held) bool {
				return h.reason == event.ReasonTwoPersonRequired && h.dec.Person.ID != person.ID
			})
			if !ok {
				return e.hold(door, dec, req.At, event.ReasonTwoPersonRequired, cfg.Access.TwoPersonDelay), nil
			}
			first.dec.Partner, dec.Partner = &person, first.dec.Person
			out.Decisions, out.Unlock = []Decision{first.dec, dec}, true
			e.arrive(first.dec, door, req.At)
			e.arrive(dec, door, req.At)
			return out, nil
		}
	}

	out.Decisions, out.Unlock = []Decision{dec}, true
	e.arrive(dec, door, req.At)
	// An employee let into an escort zone escorts the visitors waiting at
	// this door, and those who badge within the delay after.
	if person.Kind == "employee" && len(to.EscortRequired) > 0 {
		e.escorts[door.ID] = escort{person: person, zone: dec.To, until: req.At.Add(cfg.Access.EscortDelay)}
		for {
			h, ok := e.takeHeld(door.ID, req.At, func(h held) bool { return h.reason == event.ReasonEscortRequired })
			if !ok {
				break
			}
			h.dec.Partner = &person
			if dec.Partner == nil {
				dec.Partner = h.dec.Person
				out.Decisions[0] = dec
			}
			out.Decisions = append(out.Decisions, h.dec)
			e.arrive(h.dec, door, req.At)
		}
	}
	return out, nil
}

func countsAsBad(reason string) bool {
	switch reason {
	case event.ReasonUnknownCredential, event.ReasonExpired, event.ReasonBadPIN, event.ReasonBadFrame:
		return true
	}
	return false
}

// BadFrame counts a garbled read toward the reader's lockout.
func (e *Engine) BadFrame(reader, door string, at time.Time) []Alarm {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.countFailure(reader, door, at)
}

func (e *Engine) countFailure(reader, door string, at time.Time) []Alarm {
	lo := e.Config.Access.Lockout
	recent := e.failures[reader][:0]
	for _, t := range e.failures[reader] {
		if at.Sub(t) < lo.Window {
			recent = append(recent, t)
		}
	}
	recent = append(recent, at)
	e.failures[reader] = recent
	if len(recent) < lo.Failures {
		return nil
	}
	e.failures[reader] = nil
	e.lockedOut[reader] = at.Add(lo.For)
	return []Alarm{{Kind: sekisho.AlarmReaderLockedOut, Severity: sekisho.Critical, Reader: reader, Door: door,
		Detail: "too many bad cards; reader locked out until " + at.Add(lo.For).In(e.Config.Location).Format("15:04:05")}}
}

func (e *Engine) exempt(p sekisho.Person) bool {
	for _, l := range p.Levels {
		if slices.Contains(e.Config.Access.LockdownExempt, l) {
			return true
		}
	}
	return false
}

func (e *Engine) hold(door config.Door, dec Decision, at time.Time, reason string, wait time.Duration) Outcome {
	e.token++
	// A second card from the same person replaces the first.
	e.held[door.ID] = slices.DeleteFunc(e.held[door.ID], func(h held) bool { return h.dec.Person.ID == dec.Person.ID })
	e.held[door.ID] = append(e.held[door.ID], held{token: e.token, dec: dec, at: at, reason: reason})
	return Outcome{Hold: wait, Token: e.token}
}

// takeHeld removes and returns the oldest held card at door that match
// accepts and is still within its wait.
func (e *Engine) takeHeld(door string, now time.Time, match func(held) bool) (held, bool) {
	for i, h := range e.held[door] {
		if match(h) && now.Sub(h.at) < e.waitFor(h.reason) {
			e.held[door] = slices.Delete(e.held[door], i, i+1)
			return h, true
		}
	}
	return held{}, false
}

func (e *Engine) waitFor(reason string) time.Duration {
	if reason == event.ReasonTwoPersonRequired {
		return e.Config.Access.TwoPersonDelay
	}
	return e.Config.Access.EscortDelay
}

// Expire ends a held card's wait: if no partner came, it is denied.
func (e *Engine) Expire(door string, token int) (Decision, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, h := range e.held[door] {
		if h.token == token {
			e.held[door] = slices.Delete(e.held[door], i, i+1)
			h.dec.Type, h.dec.Reason = event.AccessDenied, h.reason
			return h.dec, true
		}
	}
	return Decision{}, false
}

// arrive records that a person was let into dec.To.
func (e *Engine) arrive(dec Decision, door config.Door, at time.Time) {
	p := dec.Person
	if z, ok := e.Config.Zone(dec.To); ok && z.Public {
		e.forget(p.ID) // left the site
		return
	}
	pr := Presence{PersonID: p.ID, Name: p.Name, Kind: p.Kind, Company: p.Company, Zone: dec.To, Door: door.ID, At: at}
	if dec.Visit != nil {
		pr.Visit = dec.Visit.ID
	}
	e.forget(p.ID)
	e.presence[p.ID] = pr
	e.zoneCount[pr.Zone]++
}

// forget drops a person's presence. zoneCount moves with presence so that
// a head count never walks every person under the lock doors decide with.
func (e *Engine) forget(personID string) bool {
	old, ok := e.presence[personID]
	if !ok {
		return false
	}
	delete(e.presence, personID)
	if e.zoneCount[old.Zone]--; e.zoneCount[old.Zone] <= 0 {
		delete(e.zoneCount, old.Zone)
	}
	return true
}

// countIn counts staff (not visitors) and visitors in zone.
func (e *Engine) countIn(zone string) (staff, visitors int) {
	for _, p := range e.presence {
		if p.Zone != zone {
			continue
		}
		if p.Kind == "visitor" {
			visitors++
		} else {
			staff++
		}
	}
	return staff, visitors
}

// Left forgets a person (a visitor checked out at the desk).
func (e *Engine) Left(personID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forget(personID)
}

// Forgive clears a person's anti-passback record, as a guard decides.
func (e *Engine) Forgive(personID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.forget(personID)
}

// SetLockdown starts or lifts a lockdown; it reports whether that changed anything.
func (e *Engine) SetLockdown(on bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := e.lockdown != on
	e.lockdown = on
	return changed
}

// Lockdown reports whether a lockdown is on.
func (e *Engine) Lockdown() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lockdown
}

// Muster is everyone on site, by zone then name.
func (e *Engine) Muster() []Presence {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Presence, 0, len(e.presence))
	for _, p := range e.presence {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Zone != out[j].Zone {
			return out[i].Zone < out[j].Zone
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Occupancy counts people in each zone.
func (e *Engine) Occupancy() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.zoneCount)
}

// Replay rebuilds who is where from the log's grants since the anti-passback
// reset, so a restart forgets nobody.
func (e *Engine) Replay(evs []event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range evs {
		switch {
		case ev.Type == event.AccessGranted && ev.Person != nil:
			p := sekisho.Person{ID: ev.Person.ID, Name: ev.Person.Name, Kind: ev.Person.Kind, Company: ev.Person.Company}
			door, _ := e.Config.Door(ev.Door)
			dec := Decision{To: ev.ZoneTo, Person: &p}
			if ev.Visit != "" {
				dec.Visit = &sekisho.Visit{ID: ev.Visit}
			}
			e.arrive(dec, door, ev.Time)
		case (ev.Type == event.VisitorCheckedOut || ev.Type == event.PersonForgiven) && ev.Person != nil:
			e.forget(ev.Person.ID)
		}
	}
}
