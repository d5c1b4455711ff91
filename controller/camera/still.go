package camera

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"

	"github.com/sekisho/sekisho/controller/config"
)

// MaxStill caps a still's size: a camera that streams forever or sends a
// video instead fills no disk.
const MaxStill = 8 << 20

// Still is a stored snapshot.
type Still struct {
	Camera string
	File   string // relative to the stills folder: YYYY-MM-DD/<name>.jpg
	SHA256 string
	Size   int
}

// Stills fetches JPEG stills over HTTP the way IP cameras serve them (Axis
// /axis-cgi/jpg/image.cgi, Hikvision /ISAPI/Streaming/channels/101/picture,
// an ONVIF GetSnapshotUri) and keeps them under Dir by date.
type Stills struct {
	Dir       string
	Location  *time.Location    // the site's: a still is filed under the site's date
	Transport http.RoundTripper // nil: http.DefaultTransport
	// Sim answers sim:// URLs with a generated picture, for the demo's
	// simulated cameras; nil refuses them.
	Sim func(camera string, at time.Time) ([]byte, error)
	// Frigate answers the cameras whose auth is frigate (their stills
	// through Frigate's API, with its login); nil refuses them.
	Frigate *Frigate
	// Reuse is how long one still (or one failure) answers for a camera: a
	// crowd through a door in one second is one picture, and a hung camera
	// is not asked again and again. Zero asks every time.
	Reuse time.Duration

	mu   sync.Mutex
	cams map[string]*lastStill
}

// lastStill is a camera's latest answer; its lock keeps one request at a
// time in flight to the camera, as most cameras want.
type lastStill struct {
	sync.Mutex
	at    time.Time
	still Still
	err   error
}

func (s *Stills) last(camera string) *lastStill {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cams == nil {
		s.cams = map[string]*lastStill{}
	}
	l := s.cams[camera]
	if l == nil {
		l = &lastStill{}
		s.cams[camera] = l
	}
	return l
}

// Take fetches one still from cam, files it as name and returns its hash.
// It gives up after cam.Timeout: a hung camera costs an error, not a wait.
func (s *Stills) Take(ctx context.Context, cam config.Camera, name string, at time.Time) (Still, error) {
	l := s.last(cam.ID)
	l.Lock()
	defer l.Unlock()
	if s.Reuse > 0 && !l.at.IsZero() && time.Since(l.at) < s.Reuse {
		return l.still, l.err
	}
	l.still, l.err = s.take(ctx, cam, name, at)
	l.at = time.Now()
	return l.still, l.err
}

func (s *Stills) take(ctx context.Context, cam config.Camera, name string, at time.Time) (Still, error) {
	body, err := s.fetch(ctx, cam, at)
	if err != nil {
		return Still{}, fmt.Errorf("camera %s: %w", cam.ID, err)
	}
	sum := sha256.Sum256(body)
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	rel := filepath.Join(at.In(loc).Format("2006-01-02"), name+".jpg")
	if err := writeFile(filepath.Join(s.Dir, rel), body); err != nil {
		return Still{}, fmt.Errorf("camera %s: store still: %w", cam.ID, err)
	}
	return Still{Camera: cam.ID, File: filepath.ToSlash(rel), SHA256: hex.EncodeToString(sum[:]), Size: len(body)}, nil
}

func (s *Stills) fetch(ctx context.Context, cam config.Camera, at time.Time) ([]byte, error) {
	if rest, ok := strings.CutPrefix(cam.SnapshotURL, "sim://"); ok {
		if s.Sim == nil {
			return nil, errors.New("sim:// cameras exist only with hardware: sim")
		}
		return s.Sim(rest, at)
	}
	timeout := cam.Timeout
	if timeout <= 0 || timeout > 2*time.Second {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cam.SnapshotURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "image/jpeg")
	transport := s.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	switch cam.Auth {
	case "basic":
		req.SetBasicAuth(cam.Username, cam.Password)
	case "digest":
		transport = &digest.Transport{Username: cam.Username, Password: cam.Password, Transport: transport}
	}
	var res *http.Response
	if cam.Auth == "frigate" {
		if s.Frigate == nil {
			return nil, errors.New("auth frigate needs the site's frigate.url")
		}
		res, err = s.Frigate.Get(req)
	} else {
		res, err = (&http.Client{Transport: transport, Timeout: timeout}).Do(req)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer within %v", timeout)
		}
		return nil, err
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("the camera refused the login (%s): check auth, username and password", res.Status)
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("the camera answered %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxStill+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the still did not arrive within %v", timeout)
		}
		return nil, fmt.Errorf("reading the still: %w", err)
	}
	if len(body) > MaxStill {
		return nil, fmt.Errorf("the still is over %d MiB", MaxStill>>20)
	}
	if !IsJPEG(body) {
		ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
		return nil, fmt.Errorf("the camera sent %s, not a JPEG: is snapshot_url the still's address?", orUnknown(ct))
	}
	return body, nil
}

// IsJPEG reports whether b starts like a JPEG file (SOI and a marker).
func IsJPEG(b []byte) bool { return len(b) > 3 && bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) }

func orUnknown(s string) string {
	if s == "" {
		return "something of no stated type"
	}
	return s
}

// writeFile writes through a temporary file, so a crash leaves no half still.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".still-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
