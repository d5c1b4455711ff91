package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// SessionCookie names the browser session cookie.
const SessionCookie = "sekisho_session"

type principalKey struct{}

func principal(r *http.Request) sekisho.Principal {
	p, _ := r.Context().Value(principalKey{}).(sekisho.Principal)
	return p
}

var rank = map[string]int{sekisho.RoleGuard: 1, sekisho.RoleManager: 2, sekisho.RoleAdmin: 3}

// need wraps h so it answers only a principal of at least role.
func (s *Server) need(role string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if errors.Is(err, sekisho.ErrNotFound) {
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

func (s *Server) authenticate(r *http.Request) (sekisho.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return sekisho.Principal{}, sekisho.ErrNotFound
		}
		return s.Store.Token(r.Context(), strings.TrimSpace(token))
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return s.Store.Session(r.Context(), c.Value, s.Clock.Now(), s.Config.HTTP.SessionIdle)
	}
	return sekisho.Principal{}, sekisho.ErrNotFound
}
