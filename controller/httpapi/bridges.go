package httpapi

import (
	"net/http"

	"github.com/sekisho/sekisho/controller/fleet"
)

// Fleet is the site's door Pis as their cards stand.
type Fleet interface {
	States() []fleet.State
}

// listBridges says, per door Pi, the version of the cards it should hold
// and the one it last acknowledged: an installer sees at once a Pi that
// has not caught up with a revocation.
func (s *Server) listBridges(w http.ResponseWriter, _ *http.Request) {
	states := []fleet.State{}
	if s.Fleet != nil {
		states = s.Fleet.States()
	}
	writeJSON(w, http.StatusOK, states)
}
