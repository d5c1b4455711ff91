package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/nacl/box"
)

// Enrolment is what a door Pi needs to trust its controller and to read its
// snapshots: written once by `controller bridge enroll`, carried to the Pi,
// read by `firmware-bridge --enrollment`. It holds the door Pi's private
// key: keep it 0600, on the Pi alone.
type Enrolment struct {
	Bridge string `json:"bridge"`
	Site   string `json:"site"`
	Prefix string `json:"prefix"`
	// ControllerKey verifies every command and snapshot (ed25519).
	ControllerKey ed25519.PublicKey `json:"controller_key"`
	// BoxPublic and BoxPrivate open the snapshots sealed to this door Pi
	// (NaCl box, X25519).
	BoxPublic  []byte `json:"box_public"`
	BoxPrivate []byte `json:"box_private"`
	// BrokerCA is the PEM certificate the broker's TLS certificate must
	// chain to, when the controller's embedded broker speaks TLS.
	BrokerCA string `json:"broker_ca,omitempty"`
}

// NewEnrolment makes a door Pi's keys.
func NewEnrolment(bridge, site, prefix string, controller ed25519.PublicKey) (*Enrolment, error) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("enrolment: %w", err)
	}
	return &Enrolment{Bridge: bridge, Site: site, Prefix: prefix, ControllerKey: controller,
		BoxPublic: pub[:], BoxPrivate: priv[:]}, nil
}

// Write saves the enrolment readable by its owner alone.
func (e *Enrolment) Write(path string) error {
	body, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("enrolment: %w", err)
	}
	return os.Chmod(path, 0o600) // an existing file keeps its mode otherwise
}

// ReadEnrolment loads and checks an enrolment file.
func ReadEnrolment(path string) (*Enrolment, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("enrolment: %w", err)
	}
	var e Enrolment
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("enrolment %s: %w", path, err)
	}
	switch {
	case e.Bridge == "" || e.Prefix == "":
		return nil, fmt.Errorf("enrolment %s: no bridge id or topic prefix", path)
	case len(e.ControllerKey) != ed25519.PublicKeySize:
		return nil, fmt.Errorf("enrolment %s: controller_key is not an ed25519 public key", path)
	case len(e.BoxPublic) != 32 || len(e.BoxPrivate) != 32:
		return nil, fmt.Errorf("enrolment %s: box keys are not 32 bytes", path)
	}
	return &e, nil
}

// CardsBody is what a cards message carries, sealed: one of the two.
type CardsBody struct {
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	Delta    *Delta    `json:"delta,omitempty"`
}

// SealCards encrypts a cards message so only the door Pi holding the
// private half of boxPublic can read its cards and PIN hashes.
func SealCards(b *CardsBody, boxPublic []byte) ([]byte, error) {
	if len(boxPublic) != 32 {
		return nil, errors.New("cards: the door Pi's key is not 32 bytes")
	}
	plain, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return box.SealAnonymous(nil, plain, (*[32]byte)(boxPublic), rand.Reader)
}

// OpenCards decrypts a sealed cards message with the door Pi's keys.
func (e *Enrolment) OpenCards(sealed []byte) (*CardsBody, error) {
	plain, ok := box.OpenAnonymous(nil, sealed, (*[32]byte)(e.BoxPublic), (*[32]byte)(e.BoxPrivate))
	if !ok {
		return nil, errors.New("cards: not sealed to this door Pi's key (enrolled again since?)")
	}
	var b CardsBody
	if err := json.Unmarshal(plain, &b); err != nil {
		return nil, fmt.Errorf("cards: %w", err)
	}
	switch {
	case (b.Snapshot == nil) == (b.Delta == nil):
		return nil, errors.New("cards: neither a snapshot nor a delta, or both")
	case b.Snapshot != nil && b.Snapshot.Version == "":
		return nil, errors.New("cards: a snapshot with no version")
	}
	return &b, nil
}
