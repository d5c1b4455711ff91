package event

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Checkpoint is the controller's signed word that, at Time, the site's log
// held Seq events and the last one's hash was Hash. Copies kept away from
// the controller (a subscriber on another machine, a manager's export) let
// anyone prove later that the log was cut or rewritten after that time.
type Checkpoint struct {
	Site      string    `json:"site"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Key       string    `json:"key"`       // the signer's ed25519 public key, hex
	Signature string    `json:"signature"` // ed25519 over SignedBytes, base64
	// Note is the Merkle tree's C2SP checkpoint signed at the same time
	// (a signed note, with any countersignatures): what standard tools
	// check. Not covered by Signature; it carries its own.
	Note string `json:"note,omitempty"`
}

// SignedBytes is what the signature covers: site, seq, head hash and time,
// in a form that cannot be read two ways.
func (c Checkpoint) SignedBytes() []byte {
	return fmt.Appendf(nil, "sekisho checkpoint v1\nsite %q\nseq %d\nhash %s\ntime %s\n",
		c.Site, c.Seq, c.Hash, c.Time.UTC().Format(time.RFC3339Nano))
}

// SignCheckpoint makes the checkpoint for a log at seq ending in hash.
func SignCheckpoint(key ed25519.PrivateKey, site string, seq int64, hash string, at time.Time) Checkpoint {
	c := Checkpoint{Site: site, Seq: seq, Hash: hash, Time: at.UTC().Truncate(time.Millisecond)}
	c.Key = hex.EncodeToString(key.Public().(ed25519.PublicKey))
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SignedBytes()))
	return c
}

// ErrBadCheckpoint marks a checkpoint whose signature does not hold.
var ErrBadCheckpoint = errors.New("checkpoint signature does not verify")

// Check says whether the checkpoint was signed by pub (or, with pub nil, by
// the key it names: that proves only that it was not altered since).
func (c Checkpoint) Check(pub ed25519.PublicKey) error {
	named, err := hex.DecodeString(c.Key)
	if err != nil || len(named) != ed25519.PublicKeySize {
		return fmt.Errorf("checkpoint at seq %d: key is not an ed25519 public key: %w", c.Seq, ErrBadCheckpoint)
	}
	if pub == nil {
		pub = named
	} else if !pub.Equal(ed25519.PublicKey(named)) {
		return fmt.Errorf("checkpoint at seq %d: signed by another key (%s…): %w", c.Seq, c.Key[:16], ErrBadCheckpoint)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(pub, c.SignedBytes(), sig) {
		return fmt.Errorf("checkpoint at seq %d: %w", c.Seq, ErrBadCheckpoint)
	}
	return nil
}
