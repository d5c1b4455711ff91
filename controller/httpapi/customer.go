package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/trustreport"
)

// maxReportDays bounds one customer report: a year of the site's days.
const maxReportDays = 366

func (s *Server) customerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/reports/customer", s.need(sekisho.RoleManager, s.customerReport("json")))
	mux.HandleFunc("GET /api/reports/customer.csv", s.need(sekisho.RoleManager, s.customerReport("csv")))
	mux.HandleFunc("GET /api/reports/customer.html", s.need(sekisho.RoleManager, s.customerReport("html")))
	if s.Proofs != nil {
		mux.HandleFunc("GET /api/reports/customer/bundle", s.need(sekisho.RoleManager, s.customerReport("bundle")))
	}
}

// customerQuery reads company, from and to (the site's days, both
// included) and the reader's zones.
func (s *Server) customerQuery(r *http.Request) (trustreport.Query, error) {
	v := r.URL.Query()
	q := trustreport.Query{Company: strings.TrimSpace(v.Get("company")), Zones: managedZones(principal(r))}
	if q.Company == "" || len(q.Company) > 200 {
		return q, errors.New("company: name the customer whose assets the report is about")
	}
	var err error
	if q.From, err = s.Clock.StartOfDay(v.Get("from")); err != nil {
		return q, fmt.Errorf("from: want the first day, YYYY-MM-DD")
	}
	last, err := s.Clock.StartOfDay(v.Get("to"))
	if err != nil {
		return q, fmt.Errorf("to: want the last day, YYYY-MM-DD")
	}
	q.To = s.Clock.EndOfDay(last)
	if !q.To.After(q.From) {
		return q, errors.New("to: the last day is before the first")
	}
	if q.To.Sub(q.From) > maxReportDays*24*time.Hour+time.Hour {
		return q, fmt.Errorf("from, to: a report covers %d days at most", maxReportDays)
	}
	return q, nil
}

func (s *Server) customerReport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := s.customerQuery(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_query", err.Error())
			return
		}
		now := s.Clock.Now()
		rep, err := trustreport.Build(r.Context(), s.Config, s.Store, q, now)
		if errors.Is(err, trustreport.ErrOutsideZones) {
			writeError(w, http.StatusForbidden, "outside_your_zones", err.Error())
			return
		}
		if err != nil {
			s.internal(w, "customer report", err)
			return
		}
		name := fmt.Sprintf("customer-%s-%s-%s", fileWord(q.Company), rep.From, rep.To)
		// Who had the report, for which company and period, is on record.
		s.audit(r, event.AuditExported, "customer report ("+format+")")
		loc := s.Config.Location
		switch format {
		case "csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
			_ = trustreport.WriteCSV(w, rep, loc)
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = trustreport.WriteHTML(w, rep, loc, r.URL.Query().Get("lang"))
		case "bundle":
			vctx, cancel := context.WithTimeout(r.Context(), signWait)
			first, last, err := trustreport.Vouch(vctx, rep, s.Proofs, q.From, q.To, now)
			cancel()
			if s.storageBusy(w, r, "customer bundle", err) {
				return
			}
			if err != nil {
				s.internal(w, "customer bundle", err)
				return
			}
			w.Header().Set("Content-Type", "application/zip")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
			if err := trustreport.WriteBundle(r.Context(), w, rep, s.Proofs, first, last); err != nil {
				// The zip is cut short: the client sees a broken file.
				s.Log.Error("customer bundle cut short", "err", err)
			}
		default:
			// A quarter is hundreds of thousands of entries: written by the
			// faster encoder the log's bodies are read with.
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			if err := jsonv2.MarshalWrite(w, rep); err != nil {
				s.Log.Warn("customer report cut short", "err", err)
			}
		}
	}
}

// fileWord keeps a name to what a file name may hold.
func fileWord(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' || r == '\\' || r == '"' || r < 0x20 {
			return '_'
		}
		return r
	}, s)
}
