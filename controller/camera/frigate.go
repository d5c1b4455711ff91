package camera

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Frigate is a Frigate NVR's HTTP API, as far as Sekisho uses it.
type Frigate struct {
	URL       string // base: http://frigate:5000, or https://frigate:8971 with a login
	Transport http.RoundTripper
	// On Frigate's authenticated port (8971): a user's name and password,
	// exchanged at /api/login for a JWT and again when it expires; or a
	// JWT given outright.
	Username, Password string
	Token              string
	// CookieName is Frigate's auth.cookie_name: the cookie its login
	// answers with (frigate_token when empty).
	CookieName string

	mu  sync.Mutex
	jwt string
}

func (f *Frigate) client() *http.Client {
	return &http.Client{Transport: f.Transport, Timeout: 5 * time.Second}
}

// do sends req with Frigate's bearer token, logging in first when there is
// none yet, and once more when Frigate says the token is no longer good.
func (f *Frigate) do(req *http.Request, body []byte) (*http.Response, error) {
	for try := 0; ; try++ {
		token, err := f.token(req.Context(), try > 0)
		if err != nil {
			return nil, err
		}
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := f.client().Do(r)
		if err != nil || res.StatusCode != http.StatusUnauthorized || try > 0 || f.Username == "" {
			return res, err
		}
		res.Body.Close()
	}
}

// token is the JWT to send: the configured one, or one from logging in
// (again when renew).
func (f *Frigate) token(ctx context.Context, renew bool) (string, error) {
	if f.Username == "" {
		return f.Token, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.jwt != "" && !renew {
		return f.jwt, nil
	}
	body, _ := json.Marshal(map[string]string{"user": f.Username, "password": f.Password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+"/api/login", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("frigate: login: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := f.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("frigate: login: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	cookie := f.CookieName
	if cookie == "" {
		cookie = "frigate_token"
	}
	for _, c := range res.Cookies() {
		if c.Name == cookie && c.Value != "" && res.StatusCode == http.StatusOK {
			f.jwt = c.Value
			return f.jwt, nil
		}
	}
	if res.StatusCode == http.StatusOK {
		return "", fmt.Errorf("frigate: login as %s: no %s cookie in Frigate's answer: set frigate.cookie_name to Frigate's auth.cookie_name", f.Username, cookie)
	}
	return "", fmt.Errorf("frigate: login as %s refused: %s (a user made in Frigate's Settings > Users; bookmarks need one with the admin role)", f.Username, res.Status)
}

// Get reads one of Frigate's API's answers (a camera's latest.jpg) with
// the login; the caller closes the body.
func (f *Frigate) Get(req *http.Request) (*http.Response, error) {
	return f.do(req, nil)
}

// RecordingURL is Frigate's frame of camera's recording at t: the link kept
// beside a badge event so a manager can see the moment later.
func (f *Frigate) RecordingURL(camera string, t time.Time) string {
	return fmt.Sprintf("%s/api/%s/recordings/%s/snapshot.jpg", f.URL, url.PathEscape(camera), unix(t))
}

// EventSnapshotURL is the snapshot Frigate keeps of one of its events.
func (f *Frigate) EventSnapshotURL(id string) string {
	return f.URL + "/api/events/" + url.PathEscape(id) + "/snapshot.jpg"
}

func unix(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// Bookmark creates a manual event on camera, labelled with who badged, so
// Frigate's own timeline shows the badge holder. It returns Frigate's id.
func (f *Frigate) Bookmark(ctx context.Context, camera, label, who string, duration time.Duration) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"source_type": "api", "sub_label": who, "duration": int(duration.Seconds()), "include_recording": true,
	})
	u := fmt.Sprintf("%s/api/events/%s/%s/create", f.URL, url.PathEscape(camera), url.PathEscape(label))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("frigate: bookmark: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := f.do(req, body)
	if err != nil {
		return "", fmt.Errorf("frigate: bookmark: %w", err)
	}
	defer res.Body.Close()
	var answer struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
		EventID string `json:"event_id"`
	}
	if res.StatusCode == http.StatusForbidden {
		// Frigate 0.16+ has roles: a viewer may log in and watch, but
		// only an admin may create events.
		return "", fmt.Errorf("frigate: bookmark on %s: %s: Frigate lets only a user with its admin role create events; give Sekisho an admin login (Settings > Users)", camera, res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&answer); err != nil || res.StatusCode != http.StatusOK || !answer.Success {
		return "", fmt.Errorf("frigate: bookmark on %s: %s %s", camera, res.Status, answer.Message)
	}
	return answer.EventID, nil
}

// apiEvent is an event as Frigate's /api/events lists it.
type apiEvent struct {
	ID          string   `json:"id"`
	Camera      string   `json:"camera"`
	Label       string   `json:"label"`
	Zones       []string `json:"zones"`
	StartTime   float64  `json:"start_time"`
	EndTime     *float64 `json:"end_time"`
	HasSnapshot bool     `json:"has_snapshot"`
	Data        struct {
		Type string `json:"type"` // object: a detection; api: made through the API (Sekisho's own bookmarks)
	} `json:"data"`
}

// Catch-up reads Frigate's events a page at a time, at most catchUpPages
// pages: a gap of a day at a busy plant is read whole, a runaway one is cut.
const (
	catchUpPage  = 1000
	catchUpPages = 100
)

// EventsAfter lists Frigate's detections that started after t, oldest
// first: what was published on MQTT while Sekisho was not listening
// (Frigate publishes at QoS 0 and keeps nothing for a subscriber that was
// away). Events made through the API are left out: they are Sekisho's own
// bookmarks of who badged, not people the cameras saw.
func (f *Frigate) EventsAfter(ctx context.Context, t time.Time) ([]Detection, error) {
	var out []Detection
	seen := map[string]bool{}
	after := float64(t.UnixMilli()) / 1000
	for range catchUpPages {
		page, err := f.eventsPage(ctx, after)
		if err != nil {
			return out, err
		}
		for _, e := range page {
			if e.ID == "" || e.Camera == "" || e.Label == "" || e.StartTime <= 0 || seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			after = max(after, e.StartTime)
			if e.Data.Type == "api" {
				continue
			}
			d := Detection{Type: "new", ID: e.ID, Camera: e.Camera, Label: e.Label, Zones: e.Zones,
				Start: fromUnix(e.StartTime), HasSnapshot: e.HasSnapshot, CaughtUp: true}
			if e.EndTime != nil {
				d.End = fromUnix(*e.EndTime)
			}
			out = append(out, d)
		}
		if len(page) < catchUpPage {
			break
		}
		// The next page from the last start time, a millisecond before it:
		// events that started together are not skipped (seen drops repeats).
		after -= 0.001
	}
	// An older Frigate may ignore sort: oldest first whatever came.
	slices.SortStableFunc(out, func(a, b Detection) int { return a.Start.Compare(b.Start) })
	return out, nil
}

func (f *Frigate) eventsPage(ctx context.Context, after float64) ([]apiEvent, error) {
	u := fmt.Sprintf("%s/api/events?after=%s&sort=date_asc&limit=%d&include_thumbnails=0",
		f.URL, strconv.FormatFloat(after, 'f', 3, 64), catchUpPage)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("frigate: events: %w", err)
	}
	res, err := f.do(req, nil)
	if err != nil {
		return nil, fmt.Errorf("frigate: events: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("frigate: events: %s", res.Status)
	}
	var page []apiEvent
	if err := json.NewDecoder(io.LimitReader(res.Body, 16<<20)).Decode(&page); err != nil {
		return nil, fmt.Errorf("frigate: events: %w", err)
	}
	return page, nil
}

func fromUnix(f float64) time.Time {
	return time.UnixMilli(int64(f * 1000))
}
