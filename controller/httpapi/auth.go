package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sekisho/sekisho/controller/store"
)

// SessionCookie names the browser session cookie.
const SessionCookie = "sekisho_session"

type principalKey struct{}

func principal(r *http.Request) store.Principal {
	p, _ := r.Context().Value(principalKey{}).(store.Principal)
	return p
}

var rank = map[string]int{store.RoleGuard: 1, store.RoleManager: 2, store.RoleAdmin: 3}

// need wraps h so it answers only a principal of at least role.
func (s *Server) need(role string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sekisho"`)
			writeError(w, http.StatusUnauthorized, "unauthenticated", "log in, or send Authorization: Bearer <token>")
			return
		}
		if err != nil {
			s.internal(w, "authentication", err)
			return
		}
		if rank[p.Role] < rank[role] {
			writeError(w, http.StatusForbidden, "forbidden", "this needs the "+role+" role; you are "+p.Role)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

func (s *Server) authenticate(r *http.Request) (store.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return store.Principal{}, store.ErrNotFound
		}
		return s.Store.Token(r.Context(), strings.TrimSpace(token))
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return s.Store.Session(r.Context(), c.Value, s.Clock.Now(), s.Config.HTTP.SessionIdle)
	}
	return store.Principal{}, store.ErrNotFound
}
