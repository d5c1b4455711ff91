package httpapi

import (
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/sekisho/sekisho/controller/store"
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
	for path, page := range map[string]string{"/muster": "muster.html", "/desk": "desk.html", "/report": "report.html", "/log": "log.html"} {
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
	ttl := s.SessionTTL
	if ttl == 0 {
		ttl = 12 * time.Hour
	}
	token, _, err := s.Store.Login(r.Context(), r.PostFormValue("name"), r.PostFormValue("password"), ttl)
	if errors.Is(err, store.ErrBadLogin) {
		http.Redirect(w, r, "/login?failed=1", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.internal(w, "login", err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := s.Store.Logout(r.Context(), c.Value); err != nil {
			s.Log.Warn("logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
