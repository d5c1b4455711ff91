package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

type personRequest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Company string `json:"company"`
	// EmployeeNumber names them across the company's plants.
	EmployeeNumber string   `json:"employee_number"`
	Levels         []string `json:"levels"`
	Photo          string   `json:"photo"`
}

// personWithCards is a person as the admin page lists them.
type personWithCards struct {
	sekisho.Person
	Cards []sekisho.Credential `json:"cards"`
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) {
	people, err := s.Store.People(r.Context())
	if err != nil {
		s.internal(w, "listing people", err)
		return
	}
	holders, err := s.Store.Cardholders(r.Context())
	if err != nil {
		s.internal(w, "listing cards", err)
		return
	}
	cards := map[string][]sekisho.Credential{}
	for _, h := range holders {
		cards[h.PersonID] = append(cards[h.PersonID], h.Credential)
	}
	out := make([]personWithCards, len(people))
	for i, p := range people {
		out[i] = personWithCards{Person: p, Cards: cards[p.ID]}
		if out[i].Cards == nil {
			out[i].Cards = []sekisho.Credential{}
		}
		if out[i].Levels == nil {
			out[i].Levels = []string{} // a visitor has none
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) {
	var req personRequest
	if !decode(w, r, &req) {
		return
	}
	p := &sekisho.Person{ID: strings.TrimSpace(req.ID), Name: strings.TrimSpace(req.Name), Kind: req.Kind,
		Company: strings.TrimSpace(req.Company), EmployeeNumber: strings.TrimSpace(req.EmployeeNumber), Levels: req.Levels, Photo: req.Photo}
	if problems := sekisho.CheckPerson(p, s.importRules()); len(problems) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_person", strings.Join(problems, "; "))
		return
	}
	if err := s.Store.CreatePerson(r.Context(), p); err != nil {
		if errors.Is(err, sekisho.ErrDuplicate) {
			writeError(w, http.StatusConflict, "duplicate", "a person with id "+req.ID+" exists")
			return
		}
		s.internal(w, "creating a person", err)
		return
	}
	s.logChange(r, &event.Event{Type: event.PersonAdded, Person: p.Logged(),
		Detail: map[string]string{"levels": strings.Join(p.Levels, ",")}})
	writeJSON(w, http.StatusCreated, p)
}

// personChange is an edit of a person: only the fields sent change.
type personChange struct {
	Name    *string `json:"name"`
	Kind    *string `json:"kind"`
	Company *string `json:"company"`
	// EmployeeNumber names them across the company's plants.
	EmployeeNumber *string   `json:"employee_number"`
	Levels         *[]string `json:"levels"`
	Photo          *string   `json:"photo"`
}

// updatePerson edits a person with the import's checks; the log names each
// field that changed, from what to what.
func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request) {
	var req personChange
	if !decode(w, r, &req) {
		return
	}
	before, ok := s.livePerson(w, r)
	if !ok {
		return
	}
	after := before
	after.Levels = slices.Clone(before.Levels)
	for _, f := range []struct {
		in  *string
		out *string
	}{{req.Name, &after.Name}, {req.Kind, &after.Kind}, {req.Company, &after.Company}, {req.EmployeeNumber, &after.EmployeeNumber}, {req.Photo, &after.Photo}} {
		if f.in != nil {
			*f.out = strings.TrimSpace(*f.in)
		}
	}
	if req.Levels != nil {
		after.Levels = *req.Levels
	}
	if problems := sekisho.CheckPerson(&after, s.importRules()); len(problems) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_person", strings.Join(problems, "; "))
		return
	}
	changes := changed(
		field{"name", before.Name, after.Name},
		field{"kind", before.Kind, after.Kind},
		field{"company", before.Company, after.Company},
		field{"employee_number", before.EmployeeNumber, after.EmployeeNumber},
		field{"levels", strings.Join(before.Levels, ","), strings.Join(after.Levels, ",")},
		field{"photo", photoMark(before.Photo), photoMark(after.Photo)})
	if len(changes) == 0 {
		writeJSON(w, http.StatusOK, after)
		return
	}
	if err := s.Store.UpdatePerson(r.Context(), after); err != nil {
		s.personError(w, before.ID, err)
		return
	}
	s.logChange(r, &event.Event{Type: event.PersonChanged, Person: after.Logged(), Detail: changes})
	writeJSON(w, http.StatusOK, after)
}

// photoMark stands for a photo in the log: whether there is one, not the
// picture itself.
func photoMark(photo string) string {
	if photo == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(photo))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// setPersonDisabled switches every card of a person off, or on again.
func (s *Server) setPersonDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.livePerson(w, r)
		if !ok {
			return
		}
		if p.Disabled != disabled {
			if err := s.Store.SetPersonDisabled(r.Context(), p.ID, disabled); err != nil {
				s.personError(w, p.ID, err)
				return
			}
			typ := event.PersonEnabled
			if disabled {
				typ = event.PersonDisabled
			}
			s.logChange(r, &event.Event{Type: typ, Person: p.Logged()})
			p.Disabled = disabled
		}
		writeJSON(w, http.StatusOK, p)
	}
}

// deletePerson deletes a person and their cards. The log keeps naming
// them; the visitor book and reports still do too.
func (s *Server) deletePerson(w http.ResponseWriter, r *http.Request) {
	p, ok := s.livePerson(w, r)
	if !ok {
		return
	}
	cards, err := s.Store.DeletePerson(r.Context(), p.ID)
	if err != nil {
		s.personError(w, p.ID, err)
		return
	}
	printed := make([]string, len(cards))
	for i, c := range cards {
		printed[i] = printedCard(c)
	}
	s.logChange(r, &event.Event{Type: event.PersonDeleted, Person: p.Logged(),
		Detail: map[string]string{"cards": strings.Join(printed, ",")}})
	writeJSON(w, http.StatusOK, map[string]any{"deleted": p.ID, "cards": len(cards)})
}

// livePerson reads the path's person for a change: 404 when there is none,
// 410 when they were deleted.
func (s *Server) livePerson(w http.ResponseWriter, r *http.Request) (sekisho.Person, bool) {
	id := r.PathValue("id")
	p, err := s.Store.Person(r.Context(), id)
	if err == nil && p.DeletedAt != "" {
		err = fmt.Errorf("person %s was deleted at %s: %w", id, p.DeletedAt, sekisho.ErrDeleted)
	}
	if err != nil {
		s.personError(w, id, err)
		return p, false
	}
	return p, true
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
		creds = []sekisho.Credential{}
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
	var req credentialRequest
	if !decode(w, r, &req) {
		return
	}
	holder, ok := s.livePerson(w, r)
	if !ok {
		return
	}
	c := &sekisho.Credential{PersonID: holder.ID, Format: req.Format, Facility: req.Facility, Number: req.Number, RawHex: req.RawHex,
		Enabled: req.Enabled == nil || *req.Enabled, ValidFrom: s.siteDay(deref(req.ValidFrom), false), ValidUntil: s.siteDay(deref(req.ValidUntil), true)}
	if problems := sekisho.CheckCard(c, req.PIN, s.importRules()); len(problems) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_card", strings.Join(problems, "; "))
		return
	}
	if req.PIN != "" {
		c.PINHash = sekisho.HashPIN(req.PIN)
	}
	if err := s.Store.AddCredential(r.Context(), c); err != nil {
		if errors.Is(err, sekisho.ErrDuplicate) {
			writeError(w, http.StatusConflict, "card_in_use", "card "+printedCard(*c)+" is already bound to someone")
			return
		}
		s.internal(w, "adding a card", err)
		return
	}
	s.logChange(r, &event.Event{Type: event.CredentialAdded, Person: holder.Logged(), Credential: eventCard(*c)})
	writeJSON(w, http.StatusCreated, c)
}

// credentialChange is an edit of a card: its switch, dates and PIN. A
// card's numbers never change: that is another card, added and deleted.
type credentialChange struct {
	Enabled    *bool   `json:"enabled"`
	ValidFrom  *string `json:"valid_from"`
	ValidUntil *string `json:"valid_until"`
	PIN        *string `json:"pin"` // "" removes the PIN
}

// updateCredential edits a card. Switching it off or on is logged as
// credential.disabled or credential.enabled, anything else as
// credential.changed; each names what changed.
func (s *Server) updateCredential(w http.ResponseWriter, r *http.Request) {
	var req credentialChange
	if !decode(w, r, &req) {
		return
	}
	holder, before, ok := s.liveCard(w, r)
	if !ok {
		return
	}
	after := before
	if req.Enabled != nil {
		after.Enabled = *req.Enabled
	}
	if req.ValidFrom != nil {
		after.ValidFrom = s.siteDay(*req.ValidFrom, false)
	}
	if req.ValidUntil != nil {
		after.ValidUntil = s.siteDay(*req.ValidUntil, true)
	}
	pin := deref(req.PIN)
	if problems := sekisho.CheckCard(&after, pin, s.importRules()); len(problems) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_card", strings.Join(problems, "; "))
		return
	}
	pinChange := ""
	switch {
	case req.PIN == nil:
	case pin == "" && before.HasPIN:
		after.PINHash, pinChange = "", "removed"
	case pin != "":
		after.PINHash, pinChange = sekisho.HashPIN(pin), "set"
	}
	after.HasPIN = after.PINHash != ""
	changes := changed(
		field{"valid_from", before.ValidFrom, after.ValidFrom},
		field{"valid_until", before.ValidUntil, after.ValidUntil},
		field{"enabled", strconv.FormatBool(before.Enabled), strconv.FormatBool(after.Enabled)})
	if pinChange != "" {
		changes["pin"] = pinChange // never the PIN or its hash
	}
	if len(changes) == 0 {
		writeJSON(w, http.StatusOK, after)
		return
	}
	if err := s.Store.UpdateCredential(r.Context(), after); err != nil {
		s.cardError(w, before.ID, err)
		return
	}
	typ := event.CredentialChanged
	if before.Enabled != after.Enabled {
		typ = event.CredentialEnabled
		if !after.Enabled {
			typ = event.CredentialDisabled
		}
	}
	s.logChange(r, &event.Event{Type: typ, Person: holder.Logged(), Credential: eventCard(after), Detail: changes})
	writeJSON(w, http.StatusOK, after)
}

// deleteCredential deletes a card: refused at every door from now on, and
// free to be given to someone else.
func (s *Server) deleteCredential(w http.ResponseWriter, r *http.Request) {
	holder, c, ok := s.liveCard(w, r)
	if !ok {
		return
	}
	if err := s.Store.DeleteCredential(r.Context(), holder.ID, c.ID); err != nil {
		s.cardError(w, c.ID, err)
		return
	}
	s.logChange(r, &event.Event{Type: event.CredentialDeleted, Person: holder.Logged(), Credential: eventCard(c)})
	writeJSON(w, http.StatusOK, map[string]any{"deleted": c.ID})
}

// liveCard reads the path's person and card for a change.
func (s *Server) liveCard(w http.ResponseWriter, r *http.Request) (sekisho.Person, sekisho.Credential, bool) {
	holder, ok := s.livePerson(w, r)
	if !ok {
		return holder, sekisho.Credential{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("card"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_card_id", "a card id is a number, as GET /api/people lists it")
		return holder, sekisho.Credential{}, false
	}
	c, err := s.Store.Credential(r.Context(), holder.ID, id)
	if err != nil {
		s.cardError(w, id, err)
		return holder, c, false
	}
	return holder, c, true
}

func (s *Server) cardError(w http.ResponseWriter, id int64, err error) {
	if errors.Is(err, sekisho.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no_such_card", fmt.Sprintf("no card %d of this person (deleted, or never theirs)", id))
		return
	}
	s.internal(w, "changing a card", err)
}

// field is one field of an edit, before and after.
type field struct{ name, before, after string }

// changed is the log's detail of an edit: for each field that changed,
// "before → after".
func changed(fields ...field) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if f.before != f.after {
			out[f.name] = f.before + " → " + f.after
		}
	}
	return out
}

// siteDay reads a bare date (2026-12-31) as a day of the site's calendar: a
// card is valid from its first moment, or until its last (the site's next
// midnight). Anything else is left for CheckCard to judge.
func (s *Server) siteDay(v string, until bool) string {
	day, err := time.ParseInLocation(time.DateOnly, v, s.Config.Location)
	if err != nil {
		return v
	}
	if until {
		day = day.AddDate(0, 0, 1)
	}
	return day.UTC().Format(time.RFC3339)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func eventCard(c sekisho.Credential) *event.Credential {
	return &event.Credential{Format: c.Format, Facility: c.Facility, Number: c.Number, Hex: c.RawHex}
}

// printedCard is a card as it is printed on it: facility:number, or the
// raw bits in hex.
func printedCard(c sekisho.Credential) string {
	if c.Format == wiegand.FormatRaw {
		return c.RawHex
	}
	return fmt.Sprintf("%d:%d", c.Facility, c.Number)
}

func (s *Server) personError(w http.ResponseWriter, id string, err error) {
	switch {
	case errors.Is(err, sekisho.ErrDeleted):
		writeError(w, http.StatusGone, "deleted", "person "+id+" was deleted; they stay in the log but change no more")
		return
	case errors.Is(err, sekisho.ErrNotFound):
		writeError(w, http.StatusNotFound, "no_such_person", "no person "+id)
		return
	}
	s.internal(w, "reading a person", err)
}

// levels lists what the admin page offers: the site's access levels and
// the card formats its readers send.
func (s *Server) levels(w http.ResponseWriter, r *http.Request) {
	type level struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Zones    []string `json:"zones"`
		Schedule string   `json:"schedule,omitempty"`
	}
	out := struct {
		Levels  []level  `json:"levels"`
		Formats []string `json:"formats"`
	}{Levels: []level{}, Formats: []string{}}
	for _, l := range s.Config.AccessLevels {
		out.Levels = append(out.Levels, level{l.ID, l.Name, l.Zones, l.Schedule})
	}
	for _, f := range s.Config.Decoder.Formats {
		out.Formats = append(out.Formats, f.Name)
	}
	writeJSON(w, http.StatusOK, out)
}

// logChange puts a change of who may pass in the log, with who made it.
// The change is made already; a log that cannot take it now holds it.
func (s *Server) logChange(r *http.Request, ev *event.Event) {
	ev.Actor = principal(r).Name
	if err := s.Journal.Logged(r.Context(), ev); err != nil {
		s.Log.Error("change not logged", "type", ev.Type, "err", err)
	}
}
