package camera

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Frigate is a Frigate NVR's HTTP API, as far as Sekisho uses it.
type Frigate struct {
	URL       string // base, e.g. http://frigate:5000
	Transport http.RoundTripper
}

func (f *Frigate) client() *http.Client {
	return &http.Client{Transport: f.Transport, Timeout: 5 * time.Second}
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
	res, err := f.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("frigate: bookmark: %w", err)
	}
	defer res.Body.Close()
	var answer struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
		EventID string `json:"event_id"`
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
}

// EventsAfter lists Frigate's events that started after t, oldest first:
// what was published on MQTT while Sekisho was not listening (Frigate
// publishes at QoS 0 and keeps nothing for a subscriber that was away).
func (f *Frigate) EventsAfter(ctx context.Context, t time.Time) ([]Detection, error) {
	u := fmt.Sprintf("%s/api/events?after=%s&limit=1000&include_thumbnails=0", f.URL, unix(t))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("frigate: events: %w", err)
	}
	res, err := f.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("frigate: events: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("frigate: events: %s", res.Status)
	}
	var list []apiEvent
	if err := json.NewDecoder(io.LimitReader(res.Body, 16<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("frigate: events: %w", err)
	}
	out := make([]Detection, 0, len(list))
	for _, e := range list {
		if e.ID == "" || e.Camera == "" || e.Label == "" || e.StartTime <= 0 {
			continue
		}
		d := Detection{Type: "new", ID: e.ID, Camera: e.Camera, Label: e.Label, Zones: e.Zones,
			Start: fromUnix(e.StartTime), HasSnapshot: e.HasSnapshot, CaughtUp: true}
		if e.EndTime != nil {
			d.End = fromUnix(*e.EndTime)
		}
		out = append(out, d)
	}
	// Frigate lists newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func fromUnix(f float64) time.Time {
	return time.UnixMilli(int64(f * 1000))
}
