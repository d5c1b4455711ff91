package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/sekisho/sekisho/controller/assets"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// AssetRegister is where customers' assets are, and moves them.
type AssetRegister interface {
	Assets() []config.Asset
	Move(ctx context.Context, id, zone, by string) (config.Asset, error)
	Add(ctx context.Context, a config.Asset, by string) error
}

func (s *Server) assetRoutes(mux *http.ServeMux) {
	if s.Assets == nil {
		return
	}
	mux.HandleFunc("GET /api/assets", s.need(sekisho.RoleManager, s.listAssets))
	mux.HandleFunc("POST /api/assets", s.need(sekisho.RoleAdmin, s.addAsset))
	mux.HandleFunc("POST /api/assets/{id}/move", s.need(sekisho.RoleAdmin, s.moveAsset))
}

type assetView struct {
	ID          string        `json:"id"`
	Owner       string        `json:"owner"`
	Zone        string        `json:"zone"`
	Description string        `json:"description,omitempty"`
	History     []assets.Step `json:"history"`
}

// listAssets is every asset where it is now, with its moves. A manager of
// some zones sees the assets that are or were in them.
func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) {
	steps, err := assets.Steps(r.Context(), s.Store)
	if err != nil {
		s.internal(w, "assets", err)
		return
	}
	zones := managedZones(principal(r))
	mine := func(z string) bool { return len(zones) == 0 || slices.Contains(zones, z) }
	out := []assetView{}
	for _, a := range s.Assets.Assets() {
		v := assetView{ID: a.ID, Owner: a.Owner, Zone: a.Zone, Description: a.Description, History: []assets.Step{}}
		seen := mine(a.Zone)
		for _, st := range steps {
			if st.Asset == a.ID {
				v.History = append(v.History, st)
				seen = seen || mine(st.To)
			}
		}
		if seen {
			out = append(out, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) addAsset(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID          string `json:"id"`
		Owner       string `json:"owner"`
		Zone        string `json:"zone"`
		Description string `json:"description"`
	}
	if !decode(w, r, &in) {
		return
	}
	a := config.Asset{ID: in.ID, Owner: in.Owner, Zone: in.Zone, Description: in.Description}
	if err := s.Assets.Add(r.Context(), a, principal(r).Name); err != nil {
		s.assetError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) moveAsset(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Zone string `json:"zone"`
	}
	if !decode(w, r, &in) {
		return
	}
	a, err := s.Assets.Move(r.Context(), r.PathValue("id"), strings.TrimSpace(in.Zone), principal(r).Name)
	if err != nil {
		s.assetError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) assetError(w http.ResponseWriter, err error) {
	var refusal *sekisho.Refusal
	if errors.As(err, &refusal) {
		writeError(w, http.StatusBadRequest, refusal.Code, refusal.Detail)
		return
	}
	s.siteError(w, "asset", err)
}
