package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
