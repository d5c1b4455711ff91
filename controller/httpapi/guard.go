package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// CSRFHeader carries a browser session's anti-forgery token on every
// request that changes something.
const CSRFHeader = "X-Sekisho-CSRF"

// csrfToken is a session's anti-forgery token, derived from the session's
// secret: only a page that could read /api/me with the cookie knows it.
func csrfToken(session string) string {
	sum := sha256.Sum256([]byte("sekisho-csrf\x00" + session))
	return hex.EncodeToString(sum[:16])
}

// contentPolicy lets the dashboard load only its own scripts, styles and
// pictures, run no inline script, and never be framed.
const contentPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// guard sets every answer's security headers and refuses a request that
// would change something when it comes from another site (another port of
// this host included), or from a browser session without its token.
// Token holders (Authorization: Bearer) are not browsers and need neither.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if r.TLS != nil {
			// Once on HTTPS, a browser never falls back to plain HTTP.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if why := crossSite(r); why != "" {
			writeError(w, http.StatusForbidden, "cross_site", "a request from another site may change nothing here ("+why+")")
			return
		}
		if c, err := r.Cookie(SessionCookie); err == nil && r.Header.Get("Authorization") == "" && r.URL.Path != "/login" {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(csrfToken(c.Value))) != 1 {
				writeError(w, http.StatusForbidden, "csrf", "a browser session's change needs the page's "+CSRFHeader+" token")
				return
			}
			if strings.HasPrefix(r.URL.Path, "/api/") && r.ContentLength != 0 && !isJSON(r) && !isCSVImport(r) {
				writeError(w, http.StatusUnsupportedMediaType, "not_json", "send JSON (Content-Type: application/json)")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// crossSite says why a request comes from another site, or "".
func crossSite(r *http.Request) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "Sec-Fetch-Site: " + site
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return "Origin: " + origin
		}
	}
	return ""
}

// isCSVImport: the people file from the admin page. text/csv is no type a
// form of another site can send without asking first, as JSON is not.
func isCSVImport(r *http.Request) bool {
	t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && t == "text/csv" && r.URL.Path == "/api/people/import"
}

func isJSON(r *http.Request) bool {
	t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && t == "application/json"
}
