package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/visitlog"
)

func (s *Server) visitLogRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/visits/badges", s.need(sekisho.RoleGuard, s.badges))
	mux.HandleFunc("GET /api/hosts", s.need(sekisho.RoleGuard, s.hosts))
	mux.HandleFunc("GET /api/visits/search", s.need(sekisho.RoleManager, s.searchVisits))
	mux.HandleFunc("GET /api/reports/visitors", s.need(sekisho.RoleManager, s.visitorReport))
	mux.HandleFunc("GET /api/reports/visitors.csv", s.need(sekisho.RoleManager, s.visitorReportCSV))
}

// audit logs that someone looked at or took away the log (the casebook's
// boiler maker tells staff their access is logged).
//
// The audit is handed to the log's writer and not waited for: like a
// door's events it waits in memory, in order, while the database is locked
// or the card full, so the manager's page answers at once and the reading
// is still on record (or alarmed as not logged).
func (s *Server) audit(r *http.Request, typ, what string) {
	s.Journal.Record(&event.Event{Type: typ, Actor: principal(r).Name, Detail: map[string]string{"what": what, "query": r.URL.RawQuery}})
}

func (s *Server) badges(w http.ResponseWriter, r *http.Request) {
	pool := s.Config.VisitorCards
	if pool == nil {
		writeError(w, http.StatusNotFound, "no_badge_pool", "the site config has no visitor_cards")
		return
	}
	used, err := s.Store.BadgesInUse(r.Context(), pool.Format, pool.Facility)
	if err != nil {
		s.internal(w, "badges", err)
		return
	}
	free, out := []uint64{}, []uint64{}
	for _, rg := range pool.Numbers {
		from, to, _ := config.CardRange(rg)
		for n := from; n <= to; n++ {
			if used[n] {
				out = append(out, n)
			} else {
				free = append(free, n)
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"format": pool.Format, "facility": pool.Facility, "free": free, "out": out})
}

func (s *Server) day(w http.ResponseWriter, r *http.Request) (string, bool) {
	day := r.URL.Query().Get("date")
	if day == "" {
		return s.Clock.Today(), true
	}
	if _, err := time.Parse("2006-01-02", day); err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "date: want YYYY-MM-DD")
		return "", false
	}
	return day, true
}

func (s *Server) searchVisits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vq := sekisho.VisitQuery{Company: q.Get("company"), Person: q.Get("person"), Host: q.Get("host"), From: q.Get("from"), To: q.Get("to"), Status: q.Get("status")}
	for _, d := range []string{vq.From, vq.To} {
		if d == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			writeError(w, http.StatusBadRequest, "bad_parameter", "from and to: want YYYY-MM-DD")
			return
		}
	}
	visits, err := s.Store.SearchVisits(r.Context(), vq)
	if err != nil {
		s.internal(w, "search visits", err)
		return
	}
	if zones := managedZones(principal(r)); len(zones) > 0 {
		// A manager sees the visits meant for their zones, not the others'.
		kept := visits[:0]
		for _, v := range visits {
			if slices.ContainsFunc(v.Zones, func(z string) bool { return slices.Contains(zones, z) }) {
				kept = append(kept, v)
			}
		}
		visits = kept
	}
	s.audit(r, event.AuditViewed, "visits")
	writeJSON(w, http.StatusOK, visits)
}

// visitorLog builds the day's visitor log (date= or today) and logs that
// someone took it, as typ.
func (s *Server) visitorLog(w http.ResponseWriter, r *http.Request, typ string) (string, []visitlog.Row, bool) {
	day, ok := s.day(w, r)
	if !ok {
		return "", nil, false
	}
	rows, err := visitlog.Build(r.Context(), s.Store, s.Config, day)
	if err != nil {
		s.internal(w, "visitor log", err)
		return "", nil, false
	}
	if zones := managedZones(principal(r)); len(zones) > 0 {
		rows = scopeVisitorLog(rows, zones)
	}
	s.audit(r, typ, "visitor log "+day)
	return day, rows, true
}

func (s *Server) visitorReport(w http.ResponseWriter, r *http.Request) {
	day, rows, ok := s.visitorLog(w, r, event.AuditViewed)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"date": day, "site": s.Config.Site, "name": s.Config.Name, "rows": rows})
	}
}

func (s *Server) visitorReportCSV(w http.ResponseWriter, r *http.Request) {
	day, rows, ok := s.visitorLog(w, r, event.AuditExported)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="visitors-`+day+`.csv"`)
	w.Write([]byte("\ufeff")) // so Excel on a Japanese desk reads UTF-8
	if err := visitlog.WriteCSV(w, day, rows); err != nil {
		s.Log.Error("visitor log csv", "err", err)
	}
}

// hosts are the employees a visitor may be the guest of: names and ids only.
func (s *Server) hosts(w http.ResponseWriter, r *http.Request) {
	people, err := s.Store.People(r.Context())
	if err != nil {
		s.internal(w, "hosts", err)
		return
	}
	type host struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	out := []host{}
	for _, p := range people {
		if p.Kind == "employee" {
			out = append(out, host{p.ID, p.Name})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// scopeVisitorLog keeps a manager's visitor log to their zones: visits
// meant for or into them, with only their zones' stays and covers.
func scopeVisitorLog(rows []visitlog.Row, zones []string) []visitlog.Row {
	mine := func(z string) bool { return slices.Contains(zones, z) }
	var out []visitlog.Row
	for _, row := range rows {
		var stays []visitlog.Stay
		for _, st := range row.Restricted {
			if mine(st.Zone) {
				stays = append(stays, st)
			}
		}
		var covers []string
		for _, c := range row.Covers {
			if z, _, _ := strings.Cut(c, " ("); mine(z) {
				covers = append(covers, c)
			}
		}
		if len(stays) == 0 && len(covers) == 0 && !slices.ContainsFunc(row.Zones, mine) {
			continue
		}
		row.Restricted, row.Covers = stays, covers
		row.Zones = slices.DeleteFunc(slices.Clone(row.Zones), func(z string) bool { return !mine(z) })
		out = append(out, row)
	}
	return out
}
