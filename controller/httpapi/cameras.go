package httpapi

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/store"
)

func (s *Server) cameraRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/cameras", s.need(store.RoleGuard, s.listCameras))
	mux.HandleFunc("GET /api/stills/{day}/{file}", s.need(store.RoleGuard, s.serveStill))
	mux.HandleFunc("GET /api/verify", s.need(store.RoleManager, s.verify))
}

// verify walks the hash chain and checks every kept still against it, as
// `controller verify` does, for a manager at the dashboard.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	v, err := s.Store.Verify(r.Context())
	if err != nil {
		s.internal(w, "verify", err)
		return
	}
	stills, err := camera.VerifyStills(r.Context(), s.Store, camera.StillsDir(s.Config.DataDir))
	if err != nil {
		s.internal(w, "verify stills", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"chain": v, "stills_checked": stills.Checked, "stills_pruned": stills.Pruned,
		"stills_problems": stills.Problems, "ok": v.OK && len(stills.Problems) == 0})
}

func (s *Server) listCameras(w http.ResponseWriter, r *http.Request) {
	type cam struct {
		ID      string   `json:"id"`
		Name    string   `json:"name,omitempty"`
		Zone    string   `json:"zone"`
		Doors   []string `json:"doors"`
		Stills  bool     `json:"stills"`
		Frigate string   `json:"frigate_camera,omitempty"`
	}
	out := struct {
		Cameras []cam `json:"cameras"`
		Frigate any   `json:"frigate,omitempty"`
	}{Cameras: []cam{}}
	for _, c := range s.Config.Cameras {
		item := cam{ID: c.ID, Name: c.Name, Zone: c.Zone, Doors: c.Doors, Stills: c.SnapshotURL != ""}
		if c.Frigate != nil {
			item.Frigate = c.Frigate.Camera
		}
		out.Cameras = append(out.Cameras, item)
	}
	if f := s.Config.Frigate; f != nil {
		out.Frigate = map[string]any{"url": f.URL, "topic": f.Topic, "refused": s.Site.FrigateRejects()}
	}
	writeJSON(w, http.StatusOK, out)
}

var stillName = regexp.MustCompile(`^[0-9]{8}-[a-z0-9][a-z0-9_-]*\.jpg$`)

// serveStill serves a kept still; names are checked so no path leaves the
// stills folder.
func (s *Server) serveStill(w http.ResponseWriter, r *http.Request) {
	day, file := r.PathValue("day"), r.PathValue("file")
	if _, err := time.Parse("2006-01-02", day); err != nil || !stillName.MatchString(file) {
		writeError(w, http.StatusBadRequest, "bad_parameter", "want /api/stills/YYYY-MM-DD/<seq>-<camera>.jpg, as an event's detail.file gives")
		return
	}
	path := filepath.Join(camera.StillsDir(s.Config.DataDir), day, file)
	if _, err := os.Stat(path); err != nil {
		writeError(w, http.StatusNotFound, "no_such_still", "no still "+day+"/"+file)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	http.ServeFile(w, r, path)
}
