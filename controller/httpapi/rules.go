package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/access"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Console is the guard's hand on the doors; each command is logged.
type Console interface {
	UnlockDoor(ctx context.Context, door, by string) error
	SetLockdown(ctx context.Context, on bool, by, reason string) error
	Lockdown() bool
	Forgive(ctx context.Context, personID, by string) error
	Muster() []access.Presence
	Occupancy() map[string]int
}

// Desk is the visitor desk.
type Desk interface {
	Register(ctx context.Context, v *sekisho.Visit, by string) (pathAdded []string, err error)
	CheckIn(ctx context.Context, visitID string, card uint64, by string) error
	CheckOutAtDesk(ctx context.Context, visitID, by string) error
	ConfirmCovers(ctx context.Context, visitID, zone, by string) ([]config.Asset, error)
}

// Alarms are the site's alarms: Held are those raised and not yet stored
// (the database could not take them), shown from memory.
type Alarms interface {
	Raise(a sekisho.Alarm) <-chan error
	Held() []sekisho.Alarm
}

// Journal is the one line of the log: Logged puts an event of the API's own
// (an acknowledgement, a change) there and returns once it is; Record hands
// one over without waiting (an audit); Health says whether the log is being
// written.
type Journal interface {
	Logged(ctx context.Context, ev *event.Event) error
	Record(ev *event.Event) <-chan error
	Health() journal.Health
}

func (s *Server) ruleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/doors/{id}/unlock", s.need(sekisho.RoleGuard, s.unlockDoor))
	mux.HandleFunc("GET /api/zones", s.need(sekisho.RoleGuard, s.listZones))
	mux.HandleFunc("GET /api/muster", s.need(sekisho.RoleGuard, s.muster))
	mux.HandleFunc("POST /api/lockdown", s.need(sekisho.RoleGuard, s.lockdown))
	mux.HandleFunc("POST /api/people/{id}/forgive", s.need(sekisho.RoleGuard, s.forgive))
	mux.HandleFunc("GET /api/alarms", s.need(sekisho.RoleGuard, s.listAlarms))
	mux.HandleFunc("POST /api/alarms/{id}/ack", s.need(sekisho.RoleGuard, s.ackAlarm))
	mux.HandleFunc("GET /api/visits", s.need(sekisho.RoleGuard, s.listVisits))
	mux.HandleFunc("POST /api/visits", s.need(sekisho.RoleGuard, s.registerVisit))
	mux.HandleFunc("POST /api/visits/{id}/checkin", s.need(sekisho.RoleGuard, s.checkIn))
	mux.HandleFunc("POST /api/visits/{id}/checkout", s.need(sekisho.RoleGuard, s.checkOut))
	mux.HandleFunc("POST /api/visits/{id}/covers/confirm", s.need(sekisho.RoleGuard, s.confirmCovers))
}

// siteError maps the site's errors to answers a guard can act on.
func (s *Server) siteError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, sekisho.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, sekisho.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, sekisho.ErrDuplicate):
		writeError(w, http.StatusConflict, "in_use", err.Error())
	case errors.Is(err, sekisho.ErrRefused):
		var r *sekisho.Refusal
		errors.As(err, &r)
		writeError(w, http.StatusConflict, r.Code, r.Detail)
	default:
		s.internal(w, what, err)
	}
}

func (s *Server) unlockDoor(w http.ResponseWriter, r *http.Request) {
	if err := s.Console.UnlockDoor(r.Context(), r.PathValue("id"), principal(r).Name); err != nil {
		s.siteError(w, "unlock", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"door": r.PathValue("id"), "unlocked": true})
}

type zoneState struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Restricted bool   `json:"restricted"`
	NoPhones   bool   `json:"no_phones"`
	Count      int    `json:"count"`
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	occ := s.Console.Occupancy()
	out := []zoneState{}
	for _, z := range s.Config.Zones {
		out = append(out, zoneState{ID: z.ID, Name: z.Name, Restricted: z.Restricted, NoPhones: z.NoPhones, Count: occ[z.ID]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"zones": out, "lockdown": s.Console.Lockdown()})
}

func (s *Server) muster(w http.ResponseWriter, r *http.Request) {
	list := s.Console.Muster()
	if zones := managedZones(principal(r)); len(zones) > 0 {
		list = slices.DeleteFunc(list, func(p access.Presence) bool { return !slices.Contains(zones, p.Zone) })
	}
	writeJSON(w, http.StatusOK, map[string]any{"at": s.Clock.Now(), "count": len(list), "people": list})
}

func (s *Server) lockdown(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Active *bool  `json:"active"`
		Reason string `json:"reason"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Active == nil {
		writeError(w, http.StatusBadRequest, "invalid_lockdown", `give {"active":true,"reason":"…"} or {"active":false}`)
		return
	}
	if err := s.Console.SetLockdown(r.Context(), *req.Active, principal(r).Name, req.Reason); err != nil {
		s.siteError(w, "lockdown", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"lockdown": s.Console.Lockdown()})
}

func (s *Server) forgive(w http.ResponseWriter, r *http.Request) {
	if err := s.Console.Forgive(r.Context(), r.PathValue("id"), principal(r).Name); err != nil {
		s.siteError(w, "forgive", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"person": r.PathValue("id"), "forgiven": true})
}

func (s *Server) listAlarms(w http.ResponseWriter, r *http.Request) {
	alarms, err := s.Store.OpenAlarms(r.Context())
	if held := s.Alarms.Held(); len(held) > 0 {
		// First: raised and not stored yet (the database may be locked or
		// the card full); an alarm stored meanwhile is shown once.
		stored := map[string]bool{}
		for _, a := range alarms {
			stored[a.ID] = true
		}
		var shown []sekisho.Alarm
		for _, a := range held {
			if !stored[a.ID] {
				shown = append(shown, a)
			}
		}
		alarms = append(shown, alarms...)
		if err != nil {
			s.Log.Warn("alarms read from memory only", "err", err)
			err = nil
		}
	}
	if err != nil {
		s.internal(w, "alarms", err)
		return
	}
	writeJSON(w, http.StatusOK, alarms)
}

func (s *Server) ackAlarm(w http.ResponseWriter, r *http.Request) {
	by := principal(r).Name
	a, err := s.Store.AckAlarm(r.Context(), r.PathValue("id"), by)
	if err != nil {
		s.siteError(w, "acknowledge", err)
		return
	}
	if err := s.Journal.Logged(r.Context(), &event.Event{Type: event.AlarmAcknowledged, Door: a.Door, Reader: a.Reader, Actor: by,
		Alarm: &event.Alarm{ID: a.ID, Severity: string(a.Severity)}, Detail: map[string]string{"kind": string(a.Kind)}}); err != nil {
		s.Log.Error("ack not logged", "alarm", a.ID, "err", err)
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) listVisits(w http.ResponseWriter, r *http.Request) {
	if up := r.URL.Query().Get("upcoming"); up != "" {
		// The visits registered for the days after today, for the desk to
		// see who is coming.
		days, err := strconv.Atoi(up)
		if err != nil || days < 1 || days > 31 {
			writeError(w, http.StatusBadRequest, "bad_parameter", "upcoming: a number of days, 1 to 31")
			return
		}
		now := s.Clock.Now()
		from, to := s.Clock.Day(now.AddDate(0, 0, 1)), s.Clock.Day(now.AddDate(0, 0, days))
		visits, err := s.Store.SearchVisits(r.Context(), sekisho.VisitQuery{From: from, To: to})
		if err != nil {
			s.internal(w, "visits", err)
			return
		}
		slices.SortStableFunc(visits, func(a, b sekisho.Visit) int { return strings.Compare(a.Day, b.Day) })
		writeJSON(w, http.StatusOK, append([]sekisho.Visit{}, visits...))
		return
	}
	day, ok := s.day(w, r)
	if !ok {
		return
	}
	visits, err := s.Store.Visits(r.Context(), day)
	if err != nil {
		s.internal(w, "visits", err)
		return
	}
	writeJSON(w, http.StatusOK, visits)
}

type visitRequest struct {
	Name        string   `json:"name"`
	Company     string   `json:"company"`
	Host        string   `json:"host"` // person id of the host employee
	Purpose     string   `json:"purpose"`
	Date        string   `json:"date"` // YYYY-MM-DD; today when empty
	Zones       []string `json:"zones"`
	NDARef      string   `json:"nda_ref"`
	BriefedBy   string   `json:"briefed_by"`
	PhoneLocker string   `json:"phone_locker"`
}

func (s *Server) registerVisit(w http.ResponseWriter, r *http.Request) {
	var req visitRequest
	if !decode(w, r, &req) {
		return
	}
	today := s.Clock.Today()
	if req.Date == "" {
		req.Date = today
	}
	var problems, words []string
	problem := func(word, text string) { problems, words = append(problems, text), append(words, word) }
	if strings.TrimSpace(req.Name) == "" {
		problem("name_missing", "name is missing")
	}
	if strings.TrimSpace(req.Company) == "" {
		problem("company_missing", "company is missing")
	}
	if _, err := time.Parse("2006-01-02", req.Date); err != nil {
		problem("date_format", "date: want YYYY-MM-DD")
	} else if req.Date < today {
		problem("date_past", "date "+req.Date+" is in the past")
	}
	host, err := s.Store.Person(r.Context(), req.Host)
	if err != nil || host.Kind != sekisho.KindEmployee {
		problem("host_unknown", fmt.Sprintf("host %q is not an employee on file", req.Host))
	}
	phones := false
	for _, z := range req.Zones {
		zone, ok := s.Config.Zone(z)
		if !ok {
			problem("zone_unknown", "no zone "+z)
		} else if _, reachable := s.Config.PathTo(z); !reachable {
			problem("zone_unreachable", "no door leads from the entrance to "+z)
		}
		phones = phones || zone.NoPhones
	}
	if phones && strings.TrimSpace(req.PhoneLocker) == "" {
		problem("locker_missing", "a no-phones zone is requested: give the phone locker number")
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid_visit", Detail: strings.Join(problems, "; "), Problems: words})
		return
	}
	v := &sekisho.Visit{Name: strings.TrimSpace(req.Name), Company: strings.TrimSpace(req.Company), HostID: req.Host, HostName: host.Name, Purpose: req.Purpose,
		Day: req.Date, Zones: req.Zones, NDARef: req.NDARef, BriefedBy: req.BriefedBy, PhoneLocker: req.PhoneLocker}
	if req.BriefedBy != "" {
		v.BriefedAt = s.Clock.Now().UTC().Format(time.RFC3339)
	}
	added, err := s.Desk.Register(r.Context(), v, principal(r).Name)
	if err != nil {
		s.siteError(w, "register visit", err)
		return
	}
	// The zones on the way were added to the badge: the clerk is shown which.
	writeJSON(w, http.StatusCreated, struct {
		*sekisho.Visit
		PathAdded []string `json:"path_added"`
	}{v, append([]string{}, added...)})
}

func (s *Server) checkIn(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Card *uint64 `json:"card"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Card == nil {
		writeError(w, http.StatusBadRequest, "invalid_checkin", `give the day badge's number: {"card":17}`)
		return
	}
	if err := s.Desk.CheckIn(r.Context(), r.PathValue("id"), *req.Card, principal(r).Name); err != nil {
		s.siteError(w, "check in", err)
		return
	}
	v, _ := s.Store.GetVisit(r.Context(), r.PathValue("id"))
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) checkOut(w http.ResponseWriter, r *http.Request) {
	if err := s.Desk.CheckOutAtDesk(r.Context(), r.PathValue("id"), principal(r).Name); err != nil {
		s.siteError(w, "check out", err)
		return
	}
	v, _ := s.Store.GetVisit(r.Context(), r.PathValue("id"))
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) confirmCovers(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Zone string `json:"zone"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Zone == "" {
		writeError(w, http.StatusBadRequest, "invalid_covers", `give the zone: {"zone":"die-press"}`)
		return
	}
	assets, err := s.Desk.ConfirmCovers(r.Context(), r.PathValue("id"), req.Zone, principal(r).Name)
	if err != nil {
		s.siteError(w, "confirm covers", err)
		return
	}
	ids := []string{}
	for _, a := range assets {
		ids = append(ids, a.ID+" ("+a.Owner+")")
	}
	slices.Sort(ids)
	writeJSON(w, http.StatusOK, map[string]any{"visit": r.PathValue("id"), "zone": req.Zone, "covered": ids})
}
