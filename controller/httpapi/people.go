package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

type personRequest struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Company string   `json:"company"`
	Levels  []string `json:"levels"`
	Photo   string   `json:"photo"`
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) {
	people, err := s.Store.People(r.Context())
	if err != nil {
		s.internal(w, "listing people", err)
		return
	}
	if people == nil {
		people = []store.Person{}
	}
	writeJSON(w, http.StatusOK, people)
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) {
	var req personRequest
	if !decode(w, r, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Kind == "" {
		req.Kind = "employee"
	}
	var problems []string
	if req.Name == "" {
		problems = append(problems, "name is missing")
	}
	if req.Kind != "employee" && req.Kind != "contractor" && req.Kind != "visitor" {
		problems = append(problems, fmt.Sprintf("kind %q: want employee, contractor or visitor", req.Kind))
	}
	for _, l := range req.Levels {
		if _, ok := s.Config.Level(l); !ok {
			problems = append(problems, fmt.Sprintf("no access level %q in the site config", l))
		}
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_person", strings.Join(problems, "; "))
		return
	}
	p := &store.Person{ID: req.ID, Name: req.Name, Kind: req.Kind, Company: req.Company, Levels: req.Levels, Photo: req.Photo}
	if err := s.Store.CreatePerson(r.Context(), p); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			writeError(w, http.StatusConflict, "duplicate", "a person with id "+req.ID+" exists")
			return
		}
		s.internal(w, "creating a person", err)
		return
	}
	s.logChange(r, &event.Event{Type: event.PersonAdded, Person: &event.Person{ID: p.ID, Name: p.Name, Kind: p.Kind, Company: p.Company},
		Detail: map[string]string{"levels": strings.Join(p.Levels, ",")}})
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.Store.Person(r.Context(), id); err != nil {
		s.personError(w, id, err)
		return
	}
	creds, err := s.Store.Credentials(r.Context(), id)
	if err != nil {
		s.internal(w, "listing cards", err)
		return
	}
	if creds == nil {
		creds = []store.Credential{}
	}
	writeJSON(w, http.StatusOK, creds)
}

type credentialRequest struct {
	Format     string  `json:"format"`
	Facility   uint64  `json:"facility"`
	Number     uint64  `json:"number"`
	RawHex     string  `json:"raw_hex"`
	PIN        string  `json:"pin"`
	Enabled    *bool   `json:"enabled"`
	ValidFrom  *string `json:"valid_from"`
	ValidUntil *string `json:"valid_until"`
}

func (s *Server) addCredential(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req credentialRequest
	if !decode(w, r, &req) {
		return
	}
	holder, err := s.Store.Person(r.Context(), id)
	if err != nil {
		s.personError(w, id, err)
		return
	}
	if req.Format == "" {
		req.Format = wiegand.FormatH10301
	}
	c := &store.Credential{PersonID: id, Format: req.Format, Facility: req.Facility, Number: req.Number, Enabled: true}
	switch req.Format {
	case wiegand.FormatRaw:
		c.RawHex, c.Facility, c.Number = strings.ToUpper(req.RawHex), 0, 0
		if c.RawHex == "" {
			writeError(w, http.StatusBadRequest, "invalid_card", "a raw card needs raw_hex")
			return
		}
	default:
		// Encoding checks the format and that the numbers fit it.
		if _, err := wiegand.Encode(req.Format, req.Facility, req.Number); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_card", err.Error())
			return
		}
	}
	if req.Enabled != nil {
		c.Enabled = *req.Enabled
	}
	if req.PIN != "" {
		if !validPIN(req.PIN) {
			writeError(w, http.StatusBadRequest, "invalid_card", "a PIN is 4 to 12 digits")
			return
		}
		c.PINHash = store.HashPIN(req.PIN)
	}
	for _, t := range []struct {
		name string
		in   *string
		out  *string
	}{{"valid_from", req.ValidFrom, &c.ValidFrom}, {"valid_until", req.ValidUntil, &c.ValidUntil}} {
		if t.in == nil || *t.in == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, *t.in)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_card", t.name+": want an RFC 3339 time")
			return
		}
		*t.out = at.UTC().Format(time.RFC3339)
	}
	if err := s.Store.AddCredential(r.Context(), c); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			writeError(w, http.StatusConflict, "card_in_use", fmt.Sprintf("card %d:%d is already bound to someone", c.Facility, c.Number))
			return
		}
		s.internal(w, "adding a card", err)
		return
	}
	s.logChange(r, &event.Event{Type: event.CredentialAdded,
		Person:     &event.Person{ID: holder.ID, Name: holder.Name, Kind: holder.Kind, Company: holder.Company},
		Credential: &event.Credential{Format: c.Format, Facility: c.Facility, Number: c.Number, Hex: c.RawHex}})
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) personError(w http.ResponseWriter, id string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no_such_person", "no person "+id)
		return
	}
	s.internal(w, "reading a person", err)
}

func validPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 12 {
		return false
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// importRules checks rows against the site's levels and card formats.
func (s *Server) importRules() store.ImportRules {
	return ImportRules(s.Config)
}

// ImportRules are a site's checks for a people CSV.
func ImportRules(cfg *config.Config) store.ImportRules {
	return store.ImportRules{
		Level: func(id string) bool { _, ok := cfg.Level(id); return ok },
		CheckCard: func(format string, facility, number uint64) error {
			for _, f := range cfg.Decoder.Formats {
				if f.Name == format {
					_, err := f.Encode(facility, number)
					return err
				}
			}
			return fmt.Errorf("format %q is not one the site's readers send", format)
		},
	}
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

// logChange puts a change of who may pass in the log, with who made it.
// The change is made already; a log that cannot take it now holds it.
func (s *Server) logChange(r *http.Request, ev *event.Event) {
	ev.Actor = principal(r).Name
	if err := s.Site.Record(r.Context(), ev); err != nil {
		s.Log.Error("change not logged", "type", ev.Type, "err", err)
	}
}
