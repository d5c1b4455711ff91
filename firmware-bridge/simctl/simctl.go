// Package simctl lets a person or a test work a door Pi's simulated
// hardware over HTTP: swipe a card at a slot's reader, open and close the
// door, press the exit button, and read the strike. It exists only with
// firmware-bridge --sim, so a door Pi can be tried, and tested as its own
// process, on a machine with no GPIO.
package simctl

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Handler serves the controls for the slots of f on pins.
func Handler(f *board.File, pins *board.SimPins) http.Handler {
	s := &server{f: f, pins: pins, readers: map[string]*simhw.Reader{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sim/slots/{slot}/wiegand", s.wiegand)
	mux.HandleFunc("POST /sim/slots/{slot}/contact", s.contact)
	mux.HandleFunc("POST /sim/slots/{slot}/rex", s.rex)
	mux.HandleFunc("GET /sim/slots/{slot}/strike", s.strike)
	return mux
}

type server struct {
	f    *board.File
	pins *board.SimPins

	mu      sync.Mutex
	readers map[string]*simhw.Reader // one per reader, so its frames never overlap
}

func fail(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "detail": detail})
}

func (s *server) slot(w http.ResponseWriter, r *http.Request) (board.Slot, bool) {
	slot, ok := s.f.Slot(r.PathValue("slot"))
	if !ok {
		fail(w, http.StatusNotFound, "no_such_slot", "no slot "+r.PathValue("slot")+" on this board")
	}
	return slot, ok
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "bad_json", err.Error())
		return false
	}
	return true
}

// wiegand plays a frame on the slot's outside reader, or its inside one
// with ?side=inside.
func (s *server) wiegand(w http.ResponseWriter, r *http.Request) {
	slot, ok := s.slot(w, r)
	if !ok {
		return
	}
	rd := slot.Reader
	if r.URL.Query().Get("side") == "inside" {
		rd = slot.InsideReader
	}
	if rd == nil {
		fail(w, http.StatusNotFound, "no_such_reader", "slot "+slot.Slot+" has no such reader")
		return
	}
	var req struct {
		Bits     string `json:"bits"`
		Format   string `json:"format"`
		Facility uint64 `json:"facility"`
		Number   uint64 `json:"number"`
	}
	if !decode(w, r, &req) {
		return
	}
	bits, err := wiegand.Request(req.Bits, req.Format, req.Facility, req.Number)
	if err != nil {
		fail(w, http.StatusBadRequest, "invalid_frame", err.Error())
		return
	}
	key := slot.Slot + "/" + rd.D0
	s.mu.Lock()
	reader := s.readers[key]
	if reader == nil {
		reader = &simhw.Reader{ID: key, D0: s.pins.Pin(rd.D0), D1: s.pins.Pin(rd.D1)}
		s.readers[key] = reader
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := reader.Send(ctx, bits); err != nil {
		fail(w, http.StatusInternalServerError, "swipe_failed", err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *server) contact(w http.ResponseWriter, r *http.Request) {
	slot, ok := s.slot(w, r)
	if !ok {
		return
	}
	var req struct {
		Open *bool `json:"open"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Open == nil {
		fail(w, http.StatusBadRequest, "invalid_contact", `give {"open":true} or {"open":false}`)
		return
	}
	door := &simhw.Door{Contact: s.pins.Pin(slot.Contact)}
	if err := door.SetOpen(r.Context(), *req.Open); err != nil {
		fail(w, http.StatusInternalServerError, "contact_failed", err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *server) rex(w http.ResponseWriter, r *http.Request) {
	slot, ok := s.slot(w, r)
	if !ok {
		return
	}
	if slot.REX == "" {
		fail(w, http.StatusNotFound, "no_rex", "slot "+slot.Slot+" has no exit button")
		return
	}
	if err := (&simhw.Door{REX: s.pins.Pin(slot.REX)}).PressREX(r.Context()); err != nil {
		fail(w, http.StatusInternalServerError, "rex_failed", err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// strike tells the relay line's level (high is energised for an
// active-high relay) and how often it has moved.
func (s *server) strike(w http.ResponseWriter, r *http.Request) {
	slot, ok := s.slot(w, r)
	if !ok {
		return
	}
	p := s.pins.Pin(slot.Strike)
	w.Header().Set("Content-Type", "application/json")
	level := "low"
	if p.Read() == gpio.High {
		level = "high"
	}
	json.NewEncoder(w).Encode(map[string]any{"level": level, "changes": p.Changes()})
}
