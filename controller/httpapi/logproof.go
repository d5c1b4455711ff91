package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/trustreport"
)

// LogProofs is the log's Merkle tree as auditors read it.
type LogProofs interface {
	Latest(ctx context.Context, now time.Time) ([]byte, error)
	Tile(ctx context.Context, path string) ([]byte, bool, error)
	Proof(ctx context.Context, seq int64, now time.Time) ([]byte, error)
	Cosign(ctx context.Context, signed []byte, now time.Time) ([]string, error)
	trustreport.Prover
}

// logRoutes serve the log's C2SP checkpoint and tiles under /log/, to an
// auditor's token or a manager who answers for the whole site: the tiles
// hold every event, so a manager of some zones reads them no more than
// the log's other zones.
func (s *Server) logRoutes(mux *http.ServeMux) {
	if s.Proofs == nil {
		return
	}
	mux.HandleFunc("GET /log/checkpoint", s.needAuditor(s.logCheckpoint))
	mux.HandleFunc("GET /log/tile/", s.needAuditor(s.logTile))
	mux.HandleFunc("POST /log/cosignature", s.needAuditor(s.logCosign))
	mux.HandleFunc("GET /api/log/proof", s.needAuditor(s.logProof))
	mux.HandleFunc("/log/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no_such_endpoint", r.Method+" "+r.URL.Path+" is not part of the log's tiles")
	})
}

// needAuditor answers an auditor's token, or a manager or admin of the
// whole site.
func (s *Server) needAuditor(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if errors.Is(err, sekisho.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sekisho"`)
			writeError(w, http.StatusUnauthorized, "unauthenticated", "send Authorization: Bearer <token> (controller token create --role auditor)")
			return
		}
		if err != nil {
			s.internal(w, "authentication", err)
			return
		}
		whole := rank[p.Role] >= rank[sekisho.RoleManager] && len(managedZones(p)) == 0
		if p.Role != sekisho.RoleAuditor && !whole {
			writeError(w, http.StatusForbidden, "forbidden", "the log's proofs are for an auditor's token or a manager of the whole site; you are "+p.Role)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// signWait bounds a request that may have to sign a checkpoint first (no
// checkpoint covers what it asks yet): a locked or full database answers
// as busy, promptly, rather than holding the request.
const signWait = 3 * time.Second

// storageBusy answers a request whose signing ran out of time.
func (s *Server) storageBusy(w http.ResponseWriter, r *http.Request, what string, err error) bool {
	if (errors.Is(err, context.DeadlineExceeded) || store.Transient(err)) && r.Context().Err() == nil {
		writeError(w, http.StatusServiceUnavailable, "storage_busy", what+": the log could not be signed just now (the database is busy or full); try again shortly")
		return true
	}
	return false
}

func (s *Server) logCheckpoint(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), signWait)
	defer cancel()
	b, err := s.Proofs.Latest(ctx, s.Clock.Now())
	if s.storageBusy(w, r, "checkpoint", err) {
		return
	}
	if err != nil {
		s.internal(w, "checkpoint", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

func (s *Server) logTile(w http.ResponseWriter, r *http.Request) {
	b, full, err := s.Proofs.Tile(r.Context(), r.URL.Path[len("/log/"):])
	switch {
	case errors.Is(err, logtree.ErrBadTile):
		writeError(w, http.StatusBadRequest, "bad_tile", err.Error())
		return
	case errors.Is(err, sekisho.ErrNotFound):
		writeError(w, http.StatusNotFound, "no_such_tile", err.Error())
		return
	case err != nil:
		s.internal(w, "tile", err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if full {
		// A full tile never changes: C2SP lets clients keep it for good.
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	_, _ = w.Write(b)
}

func (s *Server) logCosign(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "a cosigned checkpoint is a few hundred bytes")
		return
	}
	names, err := s.Proofs.Cosign(r.Context(), body, s.Clock.Now())
	switch {
	case errors.Is(err, logtree.ErrNotCosigned):
		writeError(w, http.StatusBadRequest, "not_cosigned", err.Error())
		return
	case err != nil:
		s.internal(w, "cosignature", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"kept": names})
}

func (s *Server) logProof(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.URL.Query().Get("seq"), 10, 64)
	if err != nil || seq < 1 {
		writeError(w, http.StatusBadRequest, "bad_seq", "seq: want the event's seq, 1 or more")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), signWait)
	defer cancel()
	b, err := s.Proofs.Proof(ctx, seq, s.Clock.Now())
	if s.storageBusy(w, r, "proof", err) {
		return
	}
	switch {
	case errors.Is(err, sekisho.ErrNotFound):
		writeError(w, http.StatusNotFound, "no_such_event", err.Error())
		return
	case errors.Is(err, logtree.ErrEdited), errors.Is(err, logtree.ErrInconsistent):
		writeError(w, http.StatusConflict, "log_tampered", err.Error())
		return
	case err != nil:
		s.internal(w, "proof", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="event-`+strconv.FormatInt(seq, 10)+`.tlog-proof"`)
	_, _ = w.Write(b)
}
