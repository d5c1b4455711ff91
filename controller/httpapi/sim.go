package httpapi

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

type wiegandRequest struct {
	Bits     string `json:"bits"`
	Format   string `json:"format"`
	Facility uint64 `json:"facility"`
	Number   uint64 `json:"number"`
}

// simWiegand plays a frame on a simulated reader's D0/D1 pins. It answers
// 202 once the pulse train is sent; the decision follows on the stream.
func (s *Server) simWiegand(w http.ResponseWriter, r *http.Request) {
	reader := r.PathValue("id")
	if _, _, ok := s.Config.ReaderDoor(reader); !ok {
		writeError(w, http.StatusNotFound, "no_such_reader", "no reader "+reader+" in the site config")
		return
	}
	var req wiegandRequest
	if !decode(w, r, &req) {
		return
	}
	bits, err := wiegand.Request(req.Bits, req.Format, req.Facility, req.Number)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_frame", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.Sim.Swipe(ctx, reader, bits); err != nil {
		s.internal(w, "simulated swipe", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"reader": reader, "bits": bits.String(), "hex": bits.Hex()})
}

// simKeys types on a simulated reader's keypad: 0–9, * (clear) and # (enter).
func (s *Server) simKeys(w http.ResponseWriter, r *http.Request) {
	reader := r.PathValue("id")
	if _, _, ok := s.Config.ReaderDoor(reader); !ok {
		writeError(w, http.StatusNotFound, "no_such_reader", "no reader "+reader+" in the site config")
		return
	}
	var req struct {
		Keys string `json:"keys"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Keys == "" || len(req.Keys) > 32 || strings.Trim(req.Keys, "0123456789*#") != "" {
		writeError(w, http.StatusBadRequest, "invalid_keys", `keys are up to 32 of 0–9, * and #, e.g. {"keys":"2468#"}`)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if err := s.Sim.Keys(ctx, reader, req.Keys); err != nil {
		s.internal(w, "simulated keypad", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"reader": reader, "keys": req.Keys})
}

func (s *Server) simDoor(w http.ResponseWriter, r *http.Request) (string, bool) {
	door := r.PathValue("id")
	if _, ok := s.Config.Door(door); !ok {
		writeError(w, http.StatusNotFound, "no_such_door", "no door "+door+" in the site config")
		return "", false
	}
	return door, true
}

func (s *Server) simContact(w http.ResponseWriter, r *http.Request) {
	door, ok := s.simDoor(w, r)
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
		writeError(w, http.StatusBadRequest, "invalid_contact", `give {"open":true} or {"open":false}`)
		return
	}
	if err := s.Sim.SetContact(r.Context(), door, *req.Open); err != nil {
		s.internal(w, "simulated contact", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"door": door, "open": *req.Open})
}

func (s *Server) simTamper(w http.ResponseWriter, r *http.Request) {
	door, ok := s.simDoor(w, r)
	if !ok {
		return
	}
	var req struct {
		Tampered *bool `json:"tampered"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Tampered == nil {
		writeError(w, http.StatusBadRequest, "invalid_tamper", `give {"tampered":true} or {"tampered":false}`)
		return
	}
	if err := s.Sim.SetTampered(r.Context(), door, *req.Tampered); err != nil {
		s.internal(w, "simulated tamper", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"door": door, "tampered": *req.Tampered})
}

func (s *Server) simREX(w http.ResponseWriter, r *http.Request) {
	door, ok := s.simDoor(w, r)
	if !ok {
		return
	}
	if err := s.Sim.PressREX(r.Context(), door); err != nil {
		s.internal(w, "simulated REX", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"door": door, "rex": true})
}

// simShift starts the scripted morning and answers at once; it plays for
// half a minute in the background.
func (s *Server) simShift(w http.ResponseWriter, r *http.Request) {
	if !s.shiftRunning.CompareAndSwap(false, true) {
		writeError(w, http.StatusConflict, "shift_running", "the demo shift is already playing")
		return
	}
	base := s.Background
	if base == nil {
		base = context.Background()
	}
	s.jobs.Go(func() {
		defer s.shiftRunning.Store(false)
		ctx, cancel := context.WithTimeout(base, 2*time.Minute)
		defer cancel()
		if err := s.Sim.Shift(ctx); err != nil {
			s.Log.Warn("demo shift stopped", "err", err)
		}
	})
	writeJSON(w, http.StatusAccepted, map[string]any{"shift": "started"})
}

// simPins answers a simulated door's pins as they are now, for tests and
// demos that want to see the relay, not only the log.
func (s *Server) simPins(w http.ResponseWriter, r *http.Request) {
	door, ok := s.simDoor(w, r)
	if !ok {
		return
	}
	pins, err := s.Sim.Pins(door)
	if err != nil {
		s.internal(w, "simulated pins", err)
		return
	}
	writeJSON(w, http.StatusOK, pins)
}

// simHardware guards the simulated readers and doors. They stand for
// hardware a person reaches by walking up to it: from this machine they
// answer anyone (the README's tour with curl), from elsewhere only a
// signed-in guard, so a demo reached over HTTPS is not opened by a stranger.
func (s *Server) simHardware(h http.HandlerFunc) http.HandlerFunc {
	guarded := s.need(sekisho.RoleGuard, h)
	return func(w http.ResponseWriter, r *http.Request) {
		if fromLoopback(r) {
			h(w, r)
			return
		}
		guarded(w, r)
	}
}

// fromLoopback says whether a request comes from this machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
