// Package hqcommand is what head office may tell a plant, signed with
// head office's key and checked by the plant with the key its config
// names: today one command, a revocation for all (disable everyone with
// an employee number), and the plant's acknowledgement.
package hqcommand

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxMessage caps a command or acknowledgement read off the broker.
const MaxMessage = 16 << 10

// Revocation disables, at every plant, whoever has the employee number.
type Revocation struct {
	ID             string    `json:"id"`
	EmployeeNumber string    `json:"employee_number"`
	By             string    `json:"by"` // head office's user who gave it
	Reason         string    `json:"reason,omitempty"`
	IssuedAt       time.Time `json:"issued_at"`
}

// Signed is a revocation as it travels: its JSON and head office's
// Ed25519 signature over a domain-separated copy of those very bytes.
type Signed struct {
	Revocation json.RawMessage `json:"revocation"`
	Signature  string          `json:"signature"`
}

const domain = "sekisho hq revocation v1\n"

// ErrNotSigned marks a command head office's key did not sign, or one
// that cannot be read: never acted on.
var ErrNotSigned = errors.New("not a command signed by head office")

// Sign makes the message for r.
func Sign(r Revocation, key ed25519.PrivateKey) ([]byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(key, append([]byte(domain), body...))
	return json.Marshal(Signed{Revocation: body, Signature: base64.StdEncoding.EncodeToString(sig)})
}

// Open checks a message with head office's public key and reads it.
func Open(payload []byte, pub ed25519.PublicKey) (Revocation, error) {
	var r Revocation
	if len(payload) > MaxMessage {
		return r, fmt.Errorf("%d bytes: %w", len(payload), ErrNotSigned)
	}
	var s Signed
	if err := json.Unmarshal(payload, &s); err != nil {
		return r, fmt.Errorf("%v: %w", err, ErrNotSigned)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, append([]byte(domain), s.Revocation...), sig) {
		return r, fmt.Errorf("the signature does not hold: %w", ErrNotSigned)
	}
	if err := json.Unmarshal(s.Revocation, &r); err != nil {
		return r, fmt.Errorf("%v: %w", err, ErrNotSigned)
	}
	if r.ID == "" || strings.TrimSpace(r.EmployeeNumber) == "" {
		return r, fmt.Errorf("no id or employee number: %w", ErrNotSigned)
	}
	return r, nil
}

// Ack is a plant's word that it applied a revocation: how many people it
// disabled (0: nobody there has the number), or why it could not.
type Ack struct {
	ID      string    `json:"id"`
	Site    string    `json:"site"`
	Applied int       `json:"applied"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
}

// SignedAck is an acknowledgement as it travels, signed with the plant's
// log key: head office marks nothing applied on anyone else's word.
type SignedAck struct {
	Ack       json.RawMessage `json:"ack"`
	Signature string          `json:"signature"`
}

const ackDomain = "sekisho hq acknowledgement v1\n"

// SignAck makes the message for a.
func SignAck(a Ack, key ed25519.PrivateKey) ([]byte, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(key, append([]byte(ackDomain), body...))
	return json.Marshal(SignedAck{Ack: body, Signature: base64.StdEncoding.EncodeToString(sig)})
}

// OpenAck checks a plant's acknowledgement with its key and reads it.
func OpenAck(payload []byte, pub ed25519.PublicKey) (Ack, error) {
	var a Ack
	if len(payload) > MaxMessage {
		return a, fmt.Errorf("an acknowledgement of %d bytes: %w", len(payload), ErrNotSigned)
	}
	var s SignedAck
	if err := json.Unmarshal(payload, &s); err != nil {
		return a, fmt.Errorf("%v: %w", err, ErrNotSigned)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, append([]byte(ackDomain), s.Ack...), sig) {
		return a, fmt.Errorf("the acknowledgement's signature does not hold: %w", ErrNotSigned)
	}
	if err := json.Unmarshal(s.Ack, &a); err != nil {
		return a, fmt.Errorf("%v: %w", err, ErrNotSigned)
	}
	if a.ID == "" {
		return a, fmt.Errorf("an acknowledgement of no command: %w", ErrNotSigned)
	}
	return a, nil
}

// PublicKey is the Ed25519 key of a verifier key (name+id+key, as
// `controller hq key` prints it).
func PublicKey(vkey string) (ed25519.PublicKey, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("hqcommand: %q is not a verifier key", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || (raw[0] != 1 && raw[0] != 4) {
		return nil, fmt.Errorf("hqcommand: %q is not an Ed25519 verifier key", vkey)
	}
	return ed25519.PublicKey(raw[1:]), nil
}

// PrivateKey is the Ed25519 key of a note signer key (PRIVATE+KEY+…).
func PrivateKey(skey string) (ed25519.PrivateKey, string, error) {
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return nil, "", errors.New("hqcommand: not a note signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return nil, "", errors.New("hqcommand: not an Ed25519 signer key")
	}
	return ed25519.NewKeyFromSeed(raw[1:]), parts[2], nil
}

// Topics of head office's commands under a site's prefix.
func RevocationTopic(prefix, id string) string { return prefix + "/hq/revocations/" + id }
func AckTopic(prefix, id string) string        { return prefix + "/hq/acks/" + id }
