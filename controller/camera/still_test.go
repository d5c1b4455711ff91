package camera_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
)

// jpegBytes is a still as a camera sends it: SOI, APP0, and some body.
var jpegBytes = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0}, []byte(strings.Repeat("press", 200))...)

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// digestCamera answers like a Hikvision: a challenge, then the still for
// the right response (RFC 7616, MD5, qop=auth).
func digestCamera(t *testing.T, user, pass string) *httptest.Server {
	const realm, nonce = "IP Camera(C1234)", "4e6f6e6365"
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Digest ") {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm=%q, qop="auth", nonce=%q, algorithm=MD5`, realm, nonce))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		p := map[string]string{}
		for _, part := range strings.Split(strings.TrimPrefix(h, "Digest "), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			p[k] = strings.Trim(v, `"`)
		}
		ha1 := md5hex(user + ":" + realm + ":" + pass)
		ha2 := md5hex(r.Method + ":" + p["uri"])
		want := md5hex(strings.Join([]string{ha1, nonce, p["nc"], p["cnonce"], "auth", ha2}, ":"))
		if p["username"] != user || p["response"] != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(jpegBytes)
	}))
}

func TestTakeStills(t *testing.T) {
	basic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "viewer" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(jpegBytes)
	}))
	defer basic.Close()
	digest := digestCamera(t, "sekisho", "pa55")
	defer digest.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html><body>Login</body></html>"))
	}))
	defer html.Close()

	dir := t.TempDir()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	stills := &camera.Stills{Dir: dir, Location: tokyo}
	at := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC) // already the 26th in Tokyo
	tests := []struct {
		name string
		cam  config.Camera
		err  string
	}{
		{"basic auth", config.Camera{ID: "cam-a", SnapshotURL: basic.URL + "/axis-cgi/jpg/image.cgi", Auth: "basic", Username: "viewer", Password: "s3cret"}, ""},
		{"digest auth", config.Camera{ID: "cam-b", SnapshotURL: digest.URL + "/ISAPI/Streaming/channels/101/picture", Auth: "digest", Username: "sekisho", Password: "pa55"}, ""},
		{"wrong password", config.Camera{ID: "cam-c", SnapshotURL: basic.URL, Auth: "basic", Username: "viewer", Password: "guess"}, "refused the login (401"},
		{"wrong digest password", config.Camera{ID: "cam-d", SnapshotURL: digest.URL, Auth: "digest", Username: "sekisho", Password: "guess"}, "refused the login"},
		{"hangs", config.Camera{ID: "cam-e", SnapshotURL: hang.URL, Timeout: 300 * time.Millisecond}, "no answer within 300ms"},
		{"sends a web page", config.Camera{ID: "cam-f", SnapshotURL: html.URL}, "sent text/html, not a JPEG"},
		{"nobody there", config.Camera{ID: "cam-g", SnapshotURL: "http://127.0.0.1:1/snapshot.jpg"}, "refused"},
		{"sim without a simulator", config.Camera{ID: "cam-h", SnapshotURL: "sim://cam-h"}, "only with hardware: sim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := stills.Take(context.Background(), tt.cam, "00000042-"+tt.cam.ID, at)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), tt.cam.ID) {
					t.Fatalf("err = %v, want one naming %s and saying %q", err, tt.cam.ID, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.File != "2026-11-26/00000042-"+tt.cam.ID+".jpg" {
				t.Fatalf("filed as %s", st.File)
			}
			got, err := os.ReadFile(filepath.Join(dir, st.File))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(got)
			if hex.EncodeToString(sum[:]) != st.SHA256 || string(got) != string(jpegBytes) {
				t.Fatalf("stored still does not match its hash or the camera's bytes")
			}
		})
	}
}

func TestSimStillIsAJPEGThatChanges(t *testing.T) {
	a, err := camera.SimStill("cam-press-1", time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := camera.SimStill("cam-press-1", time.Date(2026, 11, 26, 8, 0, 1, 0, time.UTC))
	if !camera.IsJPEG(a) || !camera.IsJPEG(b) || string(a) == string(b) {
		t.Fatal("simulated stills should be JPEGs that differ from second to second")
	}
}

func BenchmarkSimStill(b *testing.B) {
	at := time.Now()
	for b.Loop() {
		if _, err := camera.SimStill("cam-press-1", at); err != nil {
			b.Fatal(err)
		}
	}
}
