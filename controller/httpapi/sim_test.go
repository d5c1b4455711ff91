package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sekisho/sekisho/controller/config"
)

// The demo's simulated readers answer anyone on this machine, and nobody
// from elsewhere who has not signed in: a stranger on the LAN cannot swipe
// a simulated card, even before any check of who they are runs.
func TestSimulatedHardwareIsForThisMachine(t *testing.T) {
	s := &Server{}
	reached := false
	h := s.simHardware(func(w http.ResponseWriter, r *http.Request) { reached = true })
	for _, tc := range []struct {
		remote string
		want   bool
	}{
		{"127.0.0.1:40000", true},
		{"[::1]:40000", true},
		{"192.0.2.7:40000", false},
		{"[2001:db8::7]:40000", false},
		{"garbage", false},
	} {
		reached = false
		r := httptest.NewRequest("POST", "/api/sim/readers/r1/wiegand", nil)
		r.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		h(w, r)
		if reached != tc.want || (!tc.want && w.Code != http.StatusUnauthorized) {
			t.Errorf("from %s: reached %v (%d), want %v", tc.remote, reached, w.Code, tc.want)
		}
	}
}

// From elsewhere on the LAN, /metrics answers only the metrics token.
func TestMetricsFromElsewhereNeedTheToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		configured, remote, auth string
		want                     int
	}{
		{"", "127.0.0.1:9", "", http.StatusOK},
		{"", "192.0.2.7:9", "", http.StatusUnauthorized},
		{token, "192.0.2.7:9", "", http.StatusUnauthorized},
		{token, "192.0.2.7:9", "Bearer nope", http.StatusUnauthorized},
		{token, "192.0.2.7:9", "Bearer " + token, http.StatusOK},
		{"", "192.0.2.7:9", "Bearer ", http.StatusUnauthorized},
	} {
		s := &Server{Config: &config.Config{HTTP: config.HTTP{MetricsToken: tc.configured}},
			Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = tc.remote
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		s.metrics(w, r)
		if w.Code != tc.want {
			t.Errorf("token %q from %s with %q: %d, want %d", tc.configured, tc.remote, tc.auth, w.Code, tc.want)
		}
	}
}
