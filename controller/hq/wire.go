package hq

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq/ledger"
)

// MaxMessage caps what head office reads of one message: a site's events
// are a few kilobytes.
const MaxMessage = 256 << 10

// ErrBadMessage marks a message head office cannot read as an event or a
// checkpoint: counted and dropped, never acted on.
var ErrBadMessage = errors.New("not a Sekisho event or checkpoint")

// The published event is its canonical bytes with the chain's two hashes
// added at the end (store.PublishedAfter): the tail is fixed, so the bytes
// the site hashed are recovered exactly, not re-encoded.
const (
	prevField = `,"prev_hash":"`
	hashField = `","hash":"`
	tailLen   = len(prevField) + 64 + len(hashField) + 64 + len(`"}`)
)

// ParseEvent reads one message of a site's events topic.
func ParseEvent(payload []byte) (ledger.Incoming, error) {
	var in ledger.Incoming
	if len(payload) > MaxMessage {
		return in, fmt.Errorf("%d bytes, over %d: %w", len(payload), MaxMessage, ErrBadMessage)
	}
	n := len(payload)
	if n < tailLen+2 || !bytes.HasSuffix(payload, []byte(`"}`)) {
		return in, fmt.Errorf("no chain hashes at its end: %w", ErrBadMessage)
	}
	tail := payload[n-tailLen:]
	if !bytes.HasPrefix(tail, []byte(prevField)) || !bytes.Equal(tail[len(prevField)+64:len(prevField)+64+len(hashField)], []byte(hashField)) {
		return in, fmt.Errorf("no chain hashes at its end: %w", ErrBadMessage)
	}
	in.PrevHash = string(tail[len(prevField) : len(prevField)+64])
	in.Hash = string(tail[len(prevField)+64+len(hashField) : len(tail)-2])
	for _, h := range []string{in.PrevHash, in.Hash} {
		if _, err := hex.DecodeString(h); err != nil {
			return in, fmt.Errorf("a hash that is not hex: %w", ErrBadMessage)
		}
	}
	in.Body = append(append([]byte{}, payload[:n-tailLen]...), '}')
	if err := json.Unmarshal(in.Body, &in.Event); err != nil {
		return in, fmt.Errorf("%v: %w", err, ErrBadMessage)
	}
	in.Seq = in.Event.Seq
	if in.Seq < 1 {
		return in, fmt.Errorf("seq %d: %w", in.Seq, ErrBadMessage)
	}
	return in, nil
}

// FromAPI turns an event as the site's API answers it into what was
// hashed: the API decodes the log's bytes and encodes them again, the
// same fields in the same order, so the chain's hash still holds (and an
// event for which it does not is refused like any other).
func FromAPI(ev event.Event) (ledger.Incoming, error) {
	body, err := ev.Canonical()
	if err != nil {
		return ledger.Incoming{}, err
	}
	return ledger.Incoming{Seq: ev.Seq, Hash: ev.Hash, PrevHash: ev.PrevHash, Body: body, Event: ev}, nil
}

// ParseCheckpoint reads one message of a site's checkpoints topic.
func ParseCheckpoint(payload []byte) (event.Checkpoint, error) {
	var cp event.Checkpoint
	if len(payload) > MaxMessage {
		return cp, fmt.Errorf("%d bytes, over %d: %w", len(payload), MaxMessage, ErrBadMessage)
	}
	if err := json.Unmarshal(payload, &cp); err != nil {
		return cp, fmt.Errorf("%v: %w", err, ErrBadMessage)
	}
	if cp.Seq < 0 || cp.Site == "" {
		return cp, fmt.Errorf("no site or seq: %w", ErrBadMessage)
	}
	return cp, nil
}
