package camera_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
)

// authFrigate answers like Frigate's authenticated port: a login gives a
// JWT in the cookie named cookie; the latest frame and events want it as a
// bearer; only the admin may create events (0.16's roles).
func authFrigate(t *testing.T, cookie string) (*httptest.Server, *atomic.Int32) {
	logins := new(atomic.Int32)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		body := string(b)
		logins.Add(1)
		switch {
		case strings.Contains(body, `"password":"admin pw"`):
			http.SetCookie(w, &http.Cookie{Name: cookie, Value: "jwt-admin"})
		case strings.Contains(body, `"password":"viewer pw"`):
			http.SetCookie(w, &http.Cookie{Name: cookie, Value: "jwt-viewer"})
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	authed := func(r *http.Request) string {
		return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	mux.HandleFunc("GET /api/{camera}/latest.jpg", func(w http.ResponseWriter, r *http.Request) {
		if who := authed(r); who != "jwt-admin" && who != "jwt-viewer" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.PathValue("camera") != "press_1" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(jpegBytes)
	})
	mux.HandleFunc("POST /api/events/{camera}/{label}/create", func(w http.ResponseWriter, r *http.Request) {
		switch authed(r) {
		case "jwt-admin":
			w.Write([]byte(`{"success":true,"message":"Event created","event_id":"1764.5-bm"}`))
		case "jwt-viewer":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"success":false,"message":"Insufficient permissions"}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s, logins
}

// A camera's still comes through Frigate's own API with Sekisho's Frigate
// login, whatever Frigate calls its cookie; a viewer's login is told that
// bookmarks need Frigate's admin role.
func TestFrigateStillsAndRoles(t *testing.T) {
	srv, logins := authFrigate(t, "plant_frigate")
	cam := config.Camera{ID: "cam-press-1", Auth: "frigate", SnapshotURL: srv.URL + "/api/press_1/latest.jpg", Timeout: 2 * time.Second}
	ctx := context.Background()

	admin := &camera.Frigate{URL: srv.URL, Username: "sekisho", Password: "admin pw", CookieName: "plant_frigate"}
	stills := &camera.Stills{Dir: t.TempDir(), Frigate: admin}
	st, err := stills.Take(ctx, cam, "1-press", time.Now())
	if err != nil || st.Size != len(jpegBytes) {
		t.Fatalf("still through Frigate: %+v %v", st, err)
	}
	if id, err := admin.Bookmark(ctx, "press_1", "person", "Sato", 30*time.Second); err != nil || id == "" {
		t.Fatalf("admin's bookmark: %q %v", id, err)
	}
	if n := logins.Load(); n != 1 {
		t.Errorf("%d logins for a still and a bookmark, want one", n)
	}

	viewer := &camera.Frigate{URL: srv.URL, Username: "guard", Password: "viewer pw", CookieName: "plant_frigate"}
	if _, err := viewer.Bookmark(ctx, "press_1", "person", "Sato", 30*time.Second); err == nil || !strings.Contains(err.Error(), "admin role") {
		t.Errorf("viewer's bookmark: %v, want a word on the admin role", err)
	}

	// Frigate's auth.cookie_name changed, Sekisho's not: the error says which setting.
	wrong := &camera.Frigate{URL: srv.URL, Username: "sekisho", Password: "admin pw"}
	if _, err := (&camera.Stills{Dir: t.TempDir(), Frigate: wrong}).Take(ctx, cam, "2-press", time.Now()); err == nil || !strings.Contains(err.Error(), "cookie_name") {
		t.Errorf("another cookie name: %v", err)
	}
	// No Frigate at all: refused, not asked without the login.
	if _, err := (&camera.Stills{Dir: t.TempDir()}).Take(ctx, cam, "3-press", time.Now()); err == nil {
		t.Error("a frigate camera's still without Frigate")
	}
}
