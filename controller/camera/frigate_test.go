package camera

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeAuthFrigate is Frigate's authenticated port: /api/login gives a JWT
// cookie, the API wants it as a bearer token, and a token can expire.
type fakeAuthFrigate struct {
	*httptest.Server
	mu      sync.Mutex
	jwt     string
	logins  int
	events  []map[string]any // newest first, as Frigate keeps them
	pages   int
	ignored bool // an older Frigate: sort is not honoured
}

func newFakeAuthFrigate(t *testing.T) *fakeAuthFrigate {
	f := &fakeAuthFrigate{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ User, Password string }
		json.NewDecoder(r.Body).Decode(&body)
		if body.User != "sekisho" || body.Password != "right" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		f.logins++
		f.jwt = fmt.Sprintf("jwt-%d", f.logins)
		http.SetCookie(w, &http.Cookie{Name: "frigate_token", Value: f.jwt, HttpOnly: true})
		f.mu.Unlock()
	})
	mux.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+f.jwt || f.jwt == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.pages++
		q := r.URL.Query()
		after, _ := strconv.ParseFloat(q.Get("after"), 64)
		limit, _ := strconv.Atoi(q.Get("limit"))
		var list []map[string]any
		for _, e := range f.events {
			if e["start_time"].(float64) > after {
				list = append(list, e)
			}
		}
		if q.Get("sort") == "date_asc" && !f.ignored {
			slices.Reverse(list)
		}
		json.NewEncoder(w).Encode(list[:min(limit, len(list))])
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// After a long gap on Frigate's authenticated port, catch-up logs in,
// logs in again when its token expires, reads every page oldest first, and
// leaves out Sekisho's own bookmarks.
func TestCatchUpReadsEveryDetectionOldestFirst(t *testing.T) {
	f := newFakeAuthFrigate(t)
	start := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	const n = 2500
	for i := n - 1; i >= 0; i-- {
		typ := "object"
		if i%10 == 0 {
			typ = "api" // a badge bookmark Sekisho made
		}
		f.events = append(f.events, map[string]any{"id": fmt.Sprintf("e%04d", i), "camera": "press_1", "label": "person",
			"start_time": float64(start.Add(time.Duration(i)*time.Second).UnixMilli()) / 1000, "data": map[string]any{"type": typ}})
	}
	fr := &Frigate{URL: f.URL, Username: "sekisho", Password: "right"}
	got, err := fr.EventsAfter(context.Background(), start.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n-n/10 {
		t.Fatalf("%d detections caught up, want %d", len(got), n-n/10)
	}
	for i, d := range got {
		if d.ID == "e0000" || (i > 0 && d.Start.Before(got[i-1].Start)) || !d.CaughtUp {
			t.Fatalf("detection %d: %+v", i, d)
		}
	}
	if f.pages < 3 {
		t.Fatalf("%d pages read for %d events", f.pages, n)
	}

	// The token expires: one more login, and on.
	f.mu.Lock()
	f.jwt, f.ignored = "expired-elsewhere", true
	f.mu.Unlock()
	got, err = fr.EventsAfter(context.Background(), start.Add(2400*time.Second))
	if err != nil || len(got) != 90 || got[0].ID != "e2401" || f.logins != 2 {
		t.Fatalf("after the token expired: %d detections (%v), %d logins", len(got), err, f.logins)
	}

	// A wrong password is an error naming the login, not an empty gap.
	bad := &Frigate{URL: f.URL, Username: "sekisho", Password: "wrong"}
	if _, err := bad.EventsAfter(context.Background(), start); err == nil {
		t.Fatal("a refused login caught up nothing and said nothing")
	}
}
