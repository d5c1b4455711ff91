package httpapi

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/dashboard"
)

func (s *Server) dashboardRoutes(mux *http.ServeMux) {
	assets, _ := fs.Sub(dashboard.Files, "static")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		servePage(w, r, assets, "login.html")
	})
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	for path, page := range map[string]string{"/muster": "muster.html", "/desk": "desk.html", "/report": "report.html", "/log": "log.html", "/people": "people.html", "/assets": "assets.html", "/reports/customer": "customer.html"} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			if _, err := s.authenticate(r); err != nil {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			servePage(w, r, assets, page)
		})
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.authenticate(r); err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		servePage(w, r, assets, "index.html")
	})
}

func servePage(w http.ResponseWriter, r *http.Request, assets fs.FS, name string) {
	w.Header().Set("Cache-Control", "no-store")
	http.ServeFileFS(w, r, assets, name)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "bad_form", err.Error())
		return
	}
	ttl := cmp.Or(s.SessionTTL, s.Config.HTTP.SessionMax, 12*time.Hour)
	name, addr, now := r.PostFormValue("name"), clientAddr(r), s.Clock.Now()
	// Throttled per name at one address, and per address: someone guessing
	// the guard's password from elsewhere slows down there, while the guard
	// at the guard house still signs in. The name's failures from every
	// address are counted for the alarm, never to lock it.
	keys := []string{"pair:" + name + "\x00" + addr, "addr:" + addr}
	if wait := s.logins.lockedFor(now, keys...); wait > 0 {
		// Refused without looking at the password: guessing costs time.
		s.authEvent(r, event.AuthFailed, name, "locked_out")
		http.Redirect(w, r, "/login?locked="+strconv.Itoa(int(wait.Round(time.Second).Seconds())), http.StatusSeeOther)
		return
	}
	token, _, err := s.Store.Login(r.Context(), name, r.PostFormValue("password"), now, ttl)
	if errors.Is(err, sekisho.ErrBadLogin) {
		n := s.logins.failed(now, keys...)
		named := s.names.failed(now, "user:"+name)
		s.authEvent(r, event.AuthFailed, name, "bad_password")
		if n == LoginAlarmAfter || named == LoginAlarmAfter {
			s.Alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmLoginFailures,
				Detail: fmt.Sprintf("%d failed logins as %q or from %s", n, name, addr)})
		}
		http.Redirect(w, r, "/login?failed=1", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.internal(w, "login", err)
		return
	}
	s.logins.succeeded(keys[0])
	s.names.succeeded("user:" + name)
	s.authEvent(r, event.AuthLogin, name, "")
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if p, err := s.Store.Session(r.Context(), c.Value, s.Clock.Now(), 0); err == nil {
			s.authEvent(r, event.AuthLogout, p.Name, "")
		}
		if err := s.Store.Logout(r.Context(), c.Value); err != nil {
			s.Log.Warn("logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// authEvent logs a login, a failure or a logout, with the address.
func (s *Server) authEvent(r *http.Request, typ, name, reason string) {
	ev := &event.Event{Type: typ, Actor: name, Detail: map[string]string{"user": name, "addr": clientAddr(r)}}
	if reason != "" {
		ev.Detail["reason"] = reason
	}
	s.Journal.Record(ev) // held in order like a door's events; never a login kept waiting on the disk
}
