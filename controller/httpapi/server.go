// Package httpapi is the controller's HTTP API and the server of the
// embedded dashboard. Every endpoint but health, login and the simulator's
// needs a bearer token or a browser session.
package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/doors"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/sitetime"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/release"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Simulator drives simulated hardware; nil on a real site.
type Simulator interface {
	Swipe(ctx context.Context, reader string, bits wiegand.Bits) error
	Keys(ctx context.Context, reader string, keys string) error
	SetContact(ctx context.Context, door string, open bool) error
	PressREX(ctx context.Context, door string) error
	SetTampered(ctx context.Context, door string, tampered bool) error
	Shift(ctx context.Context) error
	// Pins reads a simulated door's pins as they are now.
	Pins(door string) (SimPins, error)
}

// SimPins is a simulated door's hardware as it is now: what the relay
// coil, the door switch, the exit button and the readers' LEDs show.
type SimPins struct {
	Door          string          `json:"door"`
	StrikeLevel   string          `json:"strike_level"` // high or low, as the relay coil sees it
	StrikeChanges int             `json:"strike_changes"`
	Unlocked      bool            `json:"unlocked"` // the level read through the door's wiring
	ContactOpen   bool            `json:"contact_open"`
	REXPressed    bool            `json:"rex_pressed"`
	Tampered      bool            `json:"tampered"`
	LEDs          map[string]bool `json:"leds"` // reader → lit
}

// Server holds what the API needs; it has no package state, so tests run
// several side by side.
type Server struct {
	Config *config.Config
	Store  *store.Store
	Doors  *doors.Tracker
	Sim    Simulator
	// The running site's parts the API acts through.
	Console Console
	Desk    Desk
	Alarms  Alarms
	Journal Journal
	Cameras Cameras // nil without Frigate
	Fleet   Fleet   // nil without door Pis
	Proofs  LogProofs
	Assets  AssetRegister
	Log     *slog.Logger
	// SessionTTL is how long a browser session lasts; 12 h (a shift) when zero.
	SessionTTL time.Duration
	// Background bounds work that outlives a request (the demo shift).
	Background context.Context
	// Clock is the site's: "today" for the desk and the logs is the site's
	// day, not the browser's or this machine's.
	Clock sitetime.Clock

	// Metrics serves Prometheus's scrape (nil: no /metrics).
	Metrics http.Handler

	shiftRunning atomic.Bool
	jobs         sync.WaitGroup // work that outlives its request: a verify, the demo shift
	verifying    verification
	logins       loginLimits // per name at an address, and per address: these lock
	names        loginLimits // per name from anywhere: counted for the alarm only
}

// Wait waits for the work requests started in the background (a verify,
// the demo shift); they end with Background. A stopping site waits for
// them before it closes the log they write to.
func (s *Server) Wait() { s.jobs.Wait() }

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", s.health)
	if s.Metrics != nil {
		mux.HandleFunc("GET /metrics", s.metrics)
	}
	mux.HandleFunc("GET /api/me", s.need(sekisho.RoleGuard, s.me))
	mux.HandleFunc("GET /api/doors", s.need(sekisho.RoleGuard, s.listDoors))
	mux.HandleFunc("GET /api/bridges", s.need(sekisho.RoleManager, s.listBridges))
	mux.HandleFunc("GET /api/events", s.need(sekisho.RoleManager, s.listEvents))
	mux.HandleFunc("GET /api/events.csv", s.need(sekisho.RoleManager, s.exportEvents))
	mux.HandleFunc("GET /api/stream", s.need(sekisho.RoleGuard, s.stream))
	mux.HandleFunc("GET /api/people", s.need(sekisho.RoleAdmin, s.listPeople))
	mux.HandleFunc("POST /api/people", s.need(sekisho.RoleAdmin, s.createPerson))
	mux.HandleFunc("POST /api/people/import", s.need(sekisho.RoleAdmin, s.importPeople))
	mux.HandleFunc("GET /api/people/export.csv", s.need(sekisho.RoleAdmin, s.exportPeople))
	mux.HandleFunc("GET /api/people/{id}/credentials", s.need(sekisho.RoleAdmin, s.listCredentials))
	mux.HandleFunc("POST /api/people/{id}/credentials", s.need(sekisho.RoleAdmin, s.addCredential))
	mux.HandleFunc("GET /api/levels", s.need(sekisho.RoleAdmin, s.levels))
	mux.HandleFunc("PATCH /api/people/{id}", s.need(sekisho.RoleAdmin, s.updatePerson))
	mux.HandleFunc("DELETE /api/people/{id}", s.need(sekisho.RoleAdmin, s.deletePerson))
	mux.HandleFunc("POST /api/people/{id}/disable", s.need(sekisho.RoleAdmin, s.setPersonDisabled(true)))
	mux.HandleFunc("POST /api/people/{id}/enable", s.need(sekisho.RoleAdmin, s.setPersonDisabled(false)))
	mux.HandleFunc("PATCH /api/people/{id}/credentials/{card}", s.need(sekisho.RoleAdmin, s.updateCredential))
	mux.HandleFunc("DELETE /api/people/{id}/credentials/{card}", s.need(sekisho.RoleAdmin, s.deleteCredential))
	if s.Sim != nil {
		mux.HandleFunc("POST /api/sim/readers/{id}/wiegand", s.simHardware(s.simWiegand))
		mux.HandleFunc("POST /api/sim/readers/{id}/keys", s.simHardware(s.simKeys))
		mux.HandleFunc("POST /api/sim/doors/{id}/contact", s.simHardware(s.simContact))
		mux.HandleFunc("POST /api/sim/doors/{id}/rex", s.simHardware(s.simREX))
		mux.HandleFunc("POST /api/sim/doors/{id}/tamper", s.simHardware(s.simTamper))
		mux.HandleFunc("POST /api/sim/shift", s.simHardware(s.simShift))
		mux.HandleFunc("GET /api/sim/doors/{id}", s.simHardware(s.simPins))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no_such_endpoint", r.Method+" "+r.URL.Path+" is not part of the API")
	})
	s.ruleRoutes(mux)
	s.logRoutes(mux)
	s.assetRoutes(mux)
	s.customerRoutes(mux)
	s.visitLogRoutes(mux)
	s.cameraRoutes(mux)
	s.dashboardRoutes(mux)
	return s.guard(mux)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	now := s.Clock.Now()
	build := release.Running()
	status, code := "ok", http.StatusOK
	storage := s.Journal.Health()
	if !storage.OK {
		// A monitor watching health must see a log that cannot be written.
		status, code = "degraded", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{
		"status":   status,
		"reason":   storage.Reason,
		"storage":  storage,
		"site":     s.Config.Site,
		"name":     s.Config.Name,
		"hardware": s.Config.Hardware,
		"head_seq": s.Store.Head(),
		"sim":      s.Sim != nil,
		"version":  build.Version,
		"commit":   build.Commit,
		// Pages show times and pick default dates by the site's clock.
		"time_zone": s.Clock.Location.String(),
		"now":       now.Format(time.RFC3339),
		"today":     s.Clock.Day(now),
	})
}

// metrics answers Prometheus on this machine, and elsewhere only with
// http.metrics_token: door states and alarm counts tell an intruder when
// to try a door.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	token := s.Config.HTTP.MetricsToken
	given, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case token != "" && bearer && subtle.ConstantTimeCompare([]byte(given), []byte(token)) == 1:
	case fromLoopback(r) && r.Header.Get("Authorization") == "":
	default:
		writeError(w, http.StatusUnauthorized, "unauthorized", "metrics answer this machine, or a scraper with http.metrics_token")
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	out := struct {
		sekisho.Principal
		CSRF string `json:"csrf,omitempty"` // for a browser session: sent back on every change
		// IdleTimeout: a browser session ends after this many seconds
		// without use; the page warns before.
		IdleTimeout int `json:"idle_timeout,omitempty"`
	}{Principal: principal(r)}
	if c, err := r.Cookie(SessionCookie); err == nil && r.Header.Get("Authorization") == "" {
		out.CSRF = csrfToken(c.Value)
		out.IdleTimeout = int(s.Config.HTTP.SessionIdle.Seconds())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listDoors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Doors.States())
}

// apiError is the body of every 4xx and 5xx: a stable word and a sentence;
// Problems are stable words for each thing wrong, for a page to say in its
// own language.
type apiError struct {
	Error    string   `json:"error"`
	Detail   string   `json:"detail,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, apiError{Error: code, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody caps request bodies; nothing the API takes is larger.
const maxBody = 64 << 10

// decode reads a JSON body strictly: unknown fields are a mistake worth
// telling the caller about.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the body is over 64 KiB")
		} else {
			writeError(w, http.StatusBadRequest, "bad_json", err.Error())
		}
		return false
	}
	return true
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, context.Canceled) {
		// The request was cut off: the client went, or the site is stopping.
		s.Log.Info("request ended before its answer", "what", what)
		writeError(w, http.StatusServiceUnavailable, "stopping", what+" was cut off (the site is stopping or the client left)")
		return
	}
	s.Log.Error("api failure", "what", what, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", what+" failed; see the controller log")
}
