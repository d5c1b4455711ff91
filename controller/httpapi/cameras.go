package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

func (s *Server) cameraRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/cameras", s.need(sekisho.RoleGuard, s.listCameras))
	mux.HandleFunc("GET /api/stills/{day}/{file}", s.need(sekisho.RoleGuard, s.serveStill))
	mux.HandleFunc("GET /api/verify", s.need(sekisho.RoleManager, s.verifyState))
	mux.HandleFunc("POST /api/verify", s.need(sekisho.RoleManager, s.startVerify))
}

// verification is the dashboard's walk of the log: one at a time, in the
// background, so a request never waits ten million rows long, and the page
// shows how far it got.
type verification struct {
	mu       sync.Mutex
	Running  bool          `json:"running"`
	Done     int64         `json:"done"`
	Total    int64         `json:"total"`
	By       string        `json:"by,omitempty"`
	Started  time.Time     `json:"started,omitzero"`
	Finished time.Time     `json:"finished,omitzero"`
	Error    string        `json:"error,omitempty"`
	Result   *verifyResult `json:"result,omitempty"`
}

type verifyResult struct {
	OK             bool                  `json:"ok"`
	Chain          store.Verification    `json:"chain"`
	StillsChecked  int                   `json:"stills_checked"`
	StillsPruned   int                   `json:"stills_pruned"`
	StillsProblems []camera.StillProblem `json:"stills_problems"`
}

// siteWide refuses a manager kept to some zones: the whole log's check
// reads every zone.
func siteWide(w http.ResponseWriter, r *http.Request) bool {
	if zones := managedZones(principal(r)); len(zones) > 0 {
		writeError(w, http.StatusForbidden, "zone_not_yours", "the whole log's check is for a site-wide manager or an admin")
		return false
	}
	return true
}

func (s *Server) verifyState(w http.ResponseWriter, r *http.Request) {
	if !siteWide(w, r) {
		return
	}
	v := &s.verifying
	v.mu.Lock()
	defer v.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// startVerify walks the hash chain and checks every kept still against it,
// as `controller verify` does, for a manager at the dashboard.
func (s *Server) startVerify(w http.ResponseWriter, r *http.Request) {
	if !siteWide(w, r) {
		return
	}
	v := &s.verifying
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.Running {
		writeJSON(w, http.StatusAccepted, v)
		return
	}
	v.Running, v.Done, v.Total, v.By, v.Started, v.Finished, v.Error, v.Result = true, 0, s.Store.Head(), principal(r).Name, time.Now(), time.Time{}, "", nil
	ctx := s.Background
	if ctx == nil {
		ctx = context.Background()
	}
	s.jobs.Go(func() { s.runVerify(ctx) })
	writeJSON(w, http.StatusAccepted, v)
}

func (s *Server) runVerify(ctx context.Context) {
	v := &s.verifying
	// The walk leaves a core free: the doors and the board share this
	// process, and a walk on every core would make them wait their turn.
	chain, err := s.Store.VerifyWith(ctx, store.VerifyOptions{Walkers: max(1, runtime.GOMAXPROCS(0)-1), Progress: func(done, total int64) {
		v.mu.Lock()
		v.Done, v.Total = max(v.Done, done), total
		v.mu.Unlock()
	}})
	var res *verifyResult
	if err == nil {
		var stills camera.StillsReport
		stills, err = camera.VerifyStills(ctx, s.Store, camera.StillsDir(s.Config.DataDir))
		res = &verifyResult{OK: chain.OK && len(stills.Problems) == 0, Chain: chain, StillsChecked: stills.Checked,
			StillsPruned: stills.Pruned, StillsProblems: stills.Problems}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.Running, v.Finished = false, time.Now()
	if err != nil {
		v.Error = err.Error()
		s.Log.Error("verify", "err", err)
		return
	}
	v.Result = res
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
		var refused map[string]int
		if s.Cameras != nil {
			refused = s.Cameras.FrigateRejects()
		}
		out.Frigate = map[string]any{"url": f.URL, "topic": f.Topic, "refused": refused}
	}
	writeJSON(w, http.StatusOK, out)
}

// Cameras counts the Frigate messages refused, by kind.
type Cameras interface {
	FrigateRejects() map[string]int
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
	if zones := managedZones(principal(r)); len(zones) > 0 {
		// A manager sees the pictures of their zones' cameras only.
		cam := strings.TrimSuffix(file[strings.IndexByte(file, '-')+1:], ".jpg")
		i := slices.IndexFunc(s.Config.Cameras, func(c config.Camera) bool { return c.ID == cam })
		if i < 0 || !slices.Contains(zones, s.Config.Cameras[i].Zone) {
			writeError(w, http.StatusForbidden, "zone_not_yours", fmt.Sprintf("you review %v; this camera is not in them", zones))
			return
		}
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
