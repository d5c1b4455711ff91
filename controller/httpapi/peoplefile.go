package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// importRules checks rows against the site's levels and card formats.
func (s *Server) importRules() sekisho.Rules {
	return sekisho.RulesOf(s.Config)
}

// importPeople takes a CSV: every row is written, or none, with every bad
// row reported by line.
func (s *Server) importPeople(w http.ResponseWriter, r *http.Request) {
	sum := sha256.New()
	res, err := s.Store.ImportCSV(r.Context(), io.TeeReader(http.MaxBytesReader(w, r.Body, 32<<20), sum), s.importRules())
	var bad store.ImportErrors
	if errors.As(err, &bad) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_rows",
			"detail": fmt.Sprintf("%d bad rows (the first %d listed); nothing was written", bad.Total, len(bad.Rows)),
			"rows":   bad.Rows, "total": bad.Total})
		return
	}
	if err != nil {
		s.internal(w, "import", err)
		return
	}
	s.logChange(r, &event.Event{Type: event.PeopleImported, Detail: map[string]string{
		"sha256": hex.EncodeToString(sum.Sum(nil)), "people": strconv.Itoa(res.People), "cards": strconv.Itoa(res.Cards)}})
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) exportPeople(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="people.csv"`)
	if err := s.Store.ExportCSV(r.Context(), w); err != nil {
		s.Log.Error("export people", "err", err)
	}
}
