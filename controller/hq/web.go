package hq

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/sheet"
	"github.com/sekisho/sekisho/dashboard"
)

// SessionCookie is head office's session cookie.
const SessionCookie = "sekisho_hq_session"

// csrfHeader carries a session's anti-forgery token on every change.
const csrfHeader = "X-Sekisho-CSRF"

const contentPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// web is head office's pages and API, served by Run.
type web struct {
	o      *Office
	mu     sync.Mutex
	failed map[string][]time.Time // name at an address, and an address → recent failed logins
}

type viewer struct{ name, role string }

type viewerKey struct{}

func csrf(session string) string {
	sum := sha256.Sum256([]byte("sekisho-hq-csrf\x00" + session))
	return hex.EncodeToString(sum[:16])
}

func (h *web) routes() http.Handler {
	static, _ := fs.Sub(dashboard.Files, "static")
	files := http.FileServerFS(static)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/hq", http.StatusSeeOther) })
	mux.HandleFunc("GET /hq/login", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, "hq-login.html") })
	mux.HandleFunc("POST /hq/login", h.login)
	mux.HandleFunc("POST /hq/logout", h.need(ledger.RoleAuditor, h.logout))
	mux.HandleFunc("GET /hq", h.page("hq.html"))
	mux.HandleFunc("GET /hq/api/me", h.need(ledger.RoleAuditor, h.me))
	mux.HandleFunc("GET /hq/api/sites", h.need(ledger.RoleAuditor, h.sites))
	mux.HandleFunc("GET /hq/api/alarms", h.need(ledger.RoleAuditor, h.alarms))
	mux.HandleFunc("GET /hq/api/search", h.need(ledger.RoleAuditor, h.search(false)))
	mux.HandleFunc("GET /hq/api/search.csv", h.need(ledger.RoleAuditor, h.search(true)))
	mux.HandleFunc("GET /hq/api/revocations", h.need(ledger.RoleAuditor, h.revocations))
	mux.HandleFunc("POST /hq/api/revocations", h.need(ledger.RoleAdmin, h.revoke))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ready": h.o.Ready()})
	})
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", files))
	return h.guard(mux)
}

func serveFile(w http.ResponseWriter, r *http.Request, name string) {
	b, err := dashboard.Files.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}

// page serves a page to a signed-in viewer, or sends them to log in.
func (h *web) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := h.viewer(r); err != nil {
			http.Redirect(w, r, "/hq/login", http.StatusSeeOther)
			return
		}
		serveFile(w, r, name)
	}
}

// guard sets every answer's security headers and refuses a change from
// another site or without the session's anti-forgery token.
func (h *web) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			writeError(w, http.StatusForbidden, "cross_site", "a request from another site may change nothing here")
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
				writeError(w, http.StatusForbidden, "cross_site", "a request from another site may change nothing here")
				return
			}
		}
		if c, err := r.Cookie(SessionCookie); err == nil && r.URL.Path != "/hq/login" {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(csrf(c.Value))) != 1 {
				writeError(w, http.StatusForbidden, "csrf", "a change needs the page's "+csrfHeader+" token")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *web) viewer(r *http.Request) (viewer, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return viewer{}, ledger.ErrNoSession
	}
	name, role, err := h.o.ledger.Session(r.Context(), c.Value)
	return viewer{name, role}, err
}

var rank = map[string]int{ledger.RoleAuditor: 1, ledger.RoleAdmin: 2}

// need answers only a viewer of role or above.
func (h *web) need(role string, f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h.viewer(r)
		switch {
		case errors.Is(err, ledger.ErrNoSession):
			writeError(w, http.StatusUnauthorized, "unauthenticated", "log in at /hq/login")
			return
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, "storage_busy", "head office's database does not answer: "+err.Error())
			return
		case rank[v.role] < rank[role]:
			writeError(w, http.StatusForbidden, "forbidden", "this is for "+role+"; you are "+v.role)
			return
		}
		f(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	}
}

func viewerOf(r *http.Request) viewer { v, _ := r.Context().Value(viewerKey{}).(viewer); return v }

// loginWait is how long a name at an address, or an address, waits after
// five failed logins in a quarter hour: the real user elsewhere still
// signs in.
const loginWait = time.Minute

func (h *web) throttled(keys ...string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range keys {
		var recent []time.Time
		for _, t := range h.failed[k] {
			if time.Since(t) < 15*time.Minute {
				recent = append(recent, t)
			}
		}
		h.failed[k] = recent
		if len(recent) >= 5 && time.Since(recent[len(recent)-1]) < loginWait {
			return true
		}
	}
	return false
}

func (h *web) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "bad_form", err.Error())
		return
	}
	name, addr := r.PostFormValue("name"), r.RemoteAddr
	if i := strings.LastIndex(addr, ":"); i > 0 {
		addr = addr[:i]
	}
	keys := []string{"pair:" + name + "\x00" + addr, "addr:" + addr}
	if h.throttled(keys...) {
		_ = h.o.ledger.Audit(r.Context(), name, "login_failed", "throttled from "+addr)
		http.Redirect(w, r, "/hq/login?locked=1", http.StatusSeeOther)
		return
	}
	token, _, err := h.o.ledger.Login(r.Context(), name, r.PostFormValue("password"), 12*time.Hour)
	if errors.Is(err, ledger.ErrBadLogin) {
		h.mu.Lock()
		for _, k := range keys {
			h.failed[k] = append(h.failed[k], time.Now())
		}
		h.mu.Unlock()
		_ = h.o.ledger.Audit(r.Context(), name, "login_failed", "from "+addr)
		http.Redirect(w, r, "/hq/login?failed=1", http.StatusSeeOther)
		return
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "storage_busy", "head office's database does not answer")
		return
	}
	_ = h.o.ledger.Audit(r.Context(), name, "login", "from "+addr)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: int((12 * time.Hour).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/hq", http.StatusSeeOther)
}

func (h *web) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		_ = h.o.ledger.Logout(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1})
	writeJSON(w, http.StatusOK, map[string]string{"ok": "logged out"})
}

func (h *web) me(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	c, _ := r.Cookie(SessionCookie)
	writeJSON(w, http.StatusOK, map[string]string{"name": v.name, "role": v.role, "csrf": csrf(c.Value), "office": h.o.Config.Name})
}

// siteView is one plant at a glance.
type siteView struct {
	ledger.Site
	Name       string         `json:"name"`
	LinkUp     bool           `json:"link_up"`
	OpenAlarms int            `json:"open_alarms"`
	Zones      map[string]int `json:"zones"`
}

func (h *web) sites(w http.ResponseWriter, r *http.Request) {
	held, err := h.o.ledger.Sites(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "storage_busy", err.Error())
		return
	}
	alarms, _ := h.o.ledger.OpenAlarms(r.Context())
	byID := map[string]ledger.Site{}
	for _, s := range held {
		byID[s.ID] = s
	}
	out := []siteView{}
	for _, s := range h.o.Config.Sites {
		v := siteView{Site: byID[s.ID], Name: s.Name, Zones: h.o.zones(s.ID)}
		v.ID = s.ID
		v.LinkUp = h.o.linkUp(s.ID)
		for _, a := range alarms {
			if a.Site == s.ID {
				v.OpenAlarms++
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *web) alarms(w http.ResponseWriter, r *http.Request) {
	als, err := h.o.ledger.OpenAlarms(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "storage_busy", err.Error())
		return
	}
	if als == nil {
		als = []ledger.Alarm{}
	}
	writeJSON(w, http.StatusOK, als)
}

func (h *web) search(csv bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, q := r.URL.Query(), ledger.Query{}
		q.Person, q.Card, q.Company, q.Site = v.Get("person"), v.Get("card"), v.Get("company"), v.Get("site")
		for _, t := range []struct {
			key string
			dst *time.Time
		}{{"since", &q.Since}, {"until", &q.Until}} {
			if s := v.Get(t.key); s != "" {
				at, err := parseWhen(s)
				if err != nil {
					writeError(w, http.StatusBadRequest, "bad_parameter", t.key+": a date like 2026-11-25 or an RFC 3339 time")
					return
				}
				*t.dst = at
			}
		}
		if n, err := strconv.Atoi(v.Get("limit")); err == nil {
			q.Limit = n
		}
		if csv {
			q.Limit = 100000
		}
		found, err := h.o.ledger.Search(r.Context(), q)
		if errors.Is(err, ledger.ErrBroadQuery) {
			writeError(w, http.StatusBadRequest, "too_broad", "name a person, a card (facility:number) or a company")
			return
		}
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "storage_busy", err.Error())
			return
		}
		action := "search"
		if csv {
			action = "export"
		}
		_ = h.o.ledger.Audit(r.Context(), viewerOf(r).name, action, r.URL.RawQuery)
		if !csv {
			if found == nil {
				found = []ledger.Found{}
			}
			writeJSON(w, http.StatusOK, found)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="sekisho-hq-search.csv"`)
		cw := sheet.NewWriter(w)
		_ = cw.Write([]string{"site", "seq", "time", "type", "door", "zone_from", "zone_to", "person_id", "person", "company", "card", "hash"})
		for _, f := range found {
			_ = cw.Write([]string{f.Site, strconv.FormatInt(f.Seq, 10), f.Time.UTC().Format(time.RFC3339), f.Type, f.Door, f.ZoneFrom, f.ZoneTo,
				f.PersonID, f.Person, f.Company, f.Card, f.Hash})
		}
		_ = cw.Flush()
	}
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

func (h *web) revocations(w http.ResponseWriter, r *http.Request) {
	ids := make([]string, len(h.o.Config.Sites))
	for i, s := range h.o.Config.Sites {
		ids[i] = s.ID
	}
	rs, err := h.o.ledger.Revocations(r.Context(), ids)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "storage_busy", err.Error())
		return
	}
	if rs == nil {
		rs = []ledger.RevocationStatus{}
	}
	writeJSON(w, http.StatusOK, rs)
}

func (h *web) revoke(w http.ResponseWriter, r *http.Request) {
	var req struct {
		EmployeeNumber string `json:"employee_number"`
		Reason         string `json:"reason"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", err.Error())
		return
	}
	v := viewerOf(r)
	rv, err := h.o.Revoke(r.Context(), req.EmployeeNumber, v.name, strings.TrimSpace(req.Reason))
	switch {
	case errors.Is(err, ErrNoEmployee):
		writeError(w, http.StatusBadRequest, "no_employee_number", "give the employee number to disable at every plant")
		return
	case rv.ID == "" && err != nil:
		writeError(w, http.StatusServiceUnavailable, "storage_busy", err.Error())
		return
	}
	_ = h.o.ledger.Audit(r.Context(), v.name, "revoke", rv.ID+" employee "+rv.EmployeeNumber)
	// Kept and signed; a plant the broker did not reach now gets it on
	// its next connect.
	writeJSON(w, http.StatusCreated, rv)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, map[string]string{"error": code, "detail": detail})
}
