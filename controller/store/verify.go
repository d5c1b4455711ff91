package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sekisho/sekisho/controller/event"
)

// Verification is the result of walking the chain.
type Verification struct {
	Count   int64  `json:"count"`
	OK      bool   `json:"ok"`
	BadSeq  int64  `json:"bad_seq,omitempty"` // the first row that does not fit
	Problem string `json:"problem,omitempty"`
	Head    string `json:"head,omitempty"` // hash of the last good event
}

// Verify walks the log from the first event and stops at the first row that
// was edited, deleted or moved: its hash, its link to the row before, its seq
// or its filter columns do not agree with what was chained.
func (s *Store) Verify(ctx context.Context) (Verification, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, id, type, door, zone_from, zone_to, person_id, body, prev_hash, hash FROM events ORDER BY seq`)
	if err != nil {
		return Verification{}, fmt.Errorf("store: verify: %w", err)
	}
	defer rows.Close()
	v := Verification{OK: true, Head: event.GenesisHash}
	var want int64 = 1
	for rows.Next() {
		var seq int64
		var id, typ, door, zoneFrom, zoneTo, person, body, prev, hash string
		if err := rows.Scan(&seq, &id, &typ, &door, &zoneFrom, &zoneTo, &person, &body, &prev, &hash); err != nil {
			return v, fmt.Errorf("store: verify: %w", err)
		}
		bad := func(format string, args ...any) (Verification, error) {
			v.OK, v.BadSeq, v.Problem = false, seq, fmt.Sprintf(format, args...)
			return v, nil
		}
		if seq != want {
			v.OK, v.BadSeq, v.Problem = false, want, fmt.Sprintf("seq %d is missing (next row is %d)", want, seq)
			return v, nil
		}
		if prev != v.Head {
			return bad("prev_hash does not match the hash of seq %d", seq-1)
		}
		if event.ChainHash(prev, []byte(body)) != hash {
			return bad("hash does not match the row's content")
		}
		var ev event.Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return bad("body is not an event: %v", err)
		}
		pid := ""
		if ev.Person != nil {
			pid = ev.Person.ID
		}
		if ev.Seq != seq || ev.ID != id || ev.Type != typ || ev.Door != door || ev.ZoneFrom != zoneFrom || ev.ZoneTo != zoneTo || pid != person {
			return bad("columns differ from the chained event (seq %d, id %s, type %s)", ev.Seq, ev.ID, ev.Type)
		}
		v.Count++
		v.Head = hash
		want++
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("store: verify: %w", err)
	}
	// Rows cut off the end leave no gap; the outbox remembers having
	// published them.
	var published int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_seq), 0) FROM outbox`).Scan(&published); err != nil {
		return v, fmt.Errorf("store: verify: %w", err)
	}
	if published > v.Count {
		v.OK, v.BadSeq, v.Problem = false, v.Count+1, fmt.Sprintf("events %d to %d were published but are gone", v.Count+1, published)
	}
	return v, nil
}
