package site_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/site"

	"github.com/sekisho/sekisho/controller/event"
)

// The authorization matrix: every endpoint for anonymous, a guard, the
// die-press manager, the dev-room manager and an admin, with the status
// each gets; for the scoped reads, nothing of the other manager's zone.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := context.Background()
	token := func(role string, zones ...string) string {
		tok, _, err := ts.Store.CreateToken(ctx, role, zones, "matrix "+role, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	who := []struct{ name, token string }{
		{"anonymous", ""}, {"guard", token(sekisho.RoleGuard)}, {"press manager", token(sekisho.RoleManager, "die-press")},
		{"dev manager", token(sekisho.RoleManager, "dev-room")}, {"admin", ts.token},
	}

	// Something of each zone: Sato into the press area (a still), a visit
	// meant for each room.
	live := ts.stream()
	ts.swipe("r-press-out", 12, 345)
	grant := await(t, live, "press grant", isType(event.AccessGranted, nil))
	still := await(t, live, "its still", isType(event.CameraSnapshot, func(ev event.Event) bool { return ev.Detail["for"] == grant.ID }))
	var pressVisit, devVisit sekisho.Visit
	ts.call("POST", "/api/visits", map[string]any{"name": "Press Visitor", "company": "Kanagata", "host": "p-sato",
		"zones": []string{"die-press"}, "briefed_by": "desk", "nda_ref": "NDA-1", "phone_locker": "L1"}, &pressVisit)
	ts.call("POST", "/api/visits", map[string]any{"name": "Dev Visitor", "company": "Kaihatsu", "host": "p-sato",
		"zones": []string{"dev-room"}, "briefed_by": "desk", "nda_ref": "NDA-2"}, &devVisit)
	if pressVisit.ID == "" || devVisit.ID == "" {
		t.Fatal("visits not registered")
	}

	const (
		U = http.StatusUnauthorized
		F = http.StatusForbidden
		K = http.StatusOK
		A = http.StatusAccepted
	)
	for _, tc := range []struct {
		method, path, body string
		want               [5]int // anonymous, guard, press manager, dev manager, admin
		leak               string // for the dev manager's 200: must not appear
	}{
		{"GET", "/api/health", "", [5]int{K, K, K, K, K}, ""},
		{"GET", "/api/me", "", [5]int{U, K, K, K, K}, ""},
		{"GET", "/api/doors", "", [5]int{U, K, K, K, K}, ""},
		{"GET", "/api/zones", "", [5]int{U, K, K, K, K}, ""},
		{"GET", "/api/alarms", "", [5]int{U, K, K, K, K}, ""},
		{"GET", "/api/cameras", "", [5]int{U, K, K, K, K}, ""},
		{"GET", "/api/muster", "", [5]int{U, K, K, K, K}, "die-press"},
		{"GET", "/api/events?zone=die-press", "", [5]int{U, F, K, F, K}, ""},
		{"GET", "/api/events", "", [5]int{U, F, K, K, K}, "die-press"},
		{"GET", "/api/events.csv?zone=die-press", "", [5]int{U, F, K, F, K}, ""},
		{"GET", "/api/visits/search", "", [5]int{U, F, K, K, K}, "Press Visitor"},
		{"GET", "/api/reports/visitors", "", [5]int{U, F, K, K, K}, "Press Visitor"},
		{"GET", "/api/reports/visitors.csv", "", [5]int{U, F, K, K, K}, "Press Visitor"},
		{"GET", "/api/stills/" + still.Detail["file"], "", [5]int{U, K, K, F, K}, ""},
		{"GET", "/api/verify", "", [5]int{U, F, F, F, K}, ""},
		{"GET", "/api/stream?after_seq=0", "", [5]int{U, K, K, K, K}, "die-press"}, // all of it this shift
		{"GET", "/api/people", "", [5]int{U, F, F, F, K}, ""},
		{"GET", "/api/people/export.csv", "", [5]int{U, F, F, F, K}, ""},
		{"GET", "/api/visits", "", [5]int{U, K, K, K, K}, ""},
		{"GET", "/api/hosts", "", [5]int{U, K, K, K, K}, ""},
		{"POST", "/api/people", `{"name":""}`, [5]int{U, F, F, F, http.StatusBadRequest}, ""},
		{"GET", "/api/levels", "", [5]int{U, F, F, F, K}, ""},
		{"PATCH", "/api/people/p-sato", `{"kind":"robot"}`, [5]int{U, F, F, F, http.StatusBadRequest}, ""},
		{"POST", "/api/people/p-nobody/disable", "", [5]int{U, F, F, F, http.StatusNotFound}, ""},
		{"POST", "/api/people/p-nobody/enable", "", [5]int{U, F, F, F, http.StatusNotFound}, ""},
		{"DELETE", "/api/people/p-nobody", "", [5]int{U, F, F, F, http.StatusNotFound}, ""},
		{"PATCH", "/api/people/p-sato/credentials/999999", `{}`, [5]int{U, F, F, F, http.StatusNotFound}, ""},
		{"DELETE", "/api/people/p-sato/credentials/999999", "", [5]int{U, F, F, F, http.StatusNotFound}, ""},
		{"POST", "/api/doors/floor-door/unlock", `{}`, [5]int{U, A, A, A, A}, ""},
		{"POST", "/api/verify", `{}`, [5]int{U, F, F, F, http.StatusAccepted}, ""},
	} {
		for i, w := range who {
			ctx, cancel := context.WithCancel(ctx)
			req, _ := http.NewRequestWithContext(ctx, tc.method, ts.base+tc.path, strings.NewReader(tc.body))
			if w.token != "" {
				req.Header.Set("Authorization", "Bearer "+w.token)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			if strings.HasPrefix(tc.path, "/api/stream") {
				body = make([]byte, 64<<10)
				n, _ := io.ReadAtLeast(res.Body, body, 1)
				body = body[:n]
			} else {
				body, _ = io.ReadAll(res.Body)
			}
			res.Body.Close()
			cancel()
			if res.StatusCode != tc.want[i] {
				t.Errorf("%s %s as %s: %d, want %d (%s)", tc.method, tc.path, w.name, res.StatusCode, tc.want[i], firstLine(body))
			}
			if w.name == "dev manager" && tc.leak != "" && res.StatusCode == K && strings.Contains(string(body), tc.leak) {
				t.Errorf("%s %s as the dev-room manager shows %q", tc.method, tc.path, tc.leak)
			}
			if w.name == "press manager" && tc.leak != "" && res.StatusCode == K && !strings.HasPrefix(tc.path, "/api/stream") &&
				!strings.Contains(string(body), tc.leak) {
				t.Errorf("%s %s as the die-press manager does not show %q: the leak check proves nothing", tc.method, tc.path, tc.leak)
			}
		}
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s[:min(len(s), 160)]
}

// A guard's live stream reads back over the shift; further back is the
// manager's log, and a manager reading it from the stream is audited.
func TestGuardStreamStartsAtTheShift(t *testing.T) {
	t.Parallel()
	later := func(o *site.Options) { o.Now = func() time.Time { return time.Now().Add(13 * time.Hour) } }
	ts := startSiteWith(t, later)
	guard, _, _ := ts.Store.CreateToken(context.Background(), sekisho.RoleGuard, nil, "board", time.Time{})
	code, word, detail := ts.refusal(t, "GET", "/api/stream?after_seq=0", "", guard)
	if code != http.StatusForbidden || word != "before_shift" || !strings.Contains(detail, "/api/events") {
		t.Fatalf("a guard reading yesterday from the stream: %d %s %s", code, word, detail)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.base+"/api/stream?after_seq=0", nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("an admin reading back: %v %v", err, res.Status)
	}
	res.Body.Close()
	var audits []event.Event
	waitFor(t, "the read-back audited", func() bool {
		ts.call("GET", "/api/events?type=audit.viewed", nil, &audits)
		for _, a := range audits {
			if strings.HasPrefix(a.Detail["what"], "stream from seq") {
				return true
			}
		}
		return false
	})
}
