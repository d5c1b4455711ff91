package hqcommand_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/hqcommand"
)

func TestSignedRevocation(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	r := hqcommand.Revocation{ID: "r1", EmployeeNumber: "E-1001", By: "honsha", IssuedAt: time.Now().UTC().Truncate(time.Second)}
	msg, err := hqcommand.Sign(r, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hqcommand.Open(msg, pub)
	if err != nil || got != r {
		t.Fatalf("opened %+v %v", got, err)
	}
	tampered := []byte(string(msg))
	for i := range tampered {
		if tampered[i] == '1' {
			tampered[i] = '2' // E-1001 → another number
			break
		}
	}
	for name, tt := range map[string]struct {
		msg []byte
		pub ed25519.PublicKey
	}{
		"another key":    {msg, other},
		"tampered":       {tampered, pub},
		"garbage":        {[]byte("{"), pub},
		"no signature":   {[]byte(`{"revocation":{"id":"x","employee_number":"1"}}`), pub},
		"too large":      {make([]byte, hqcommand.MaxMessage+1), pub},
		"no key at all":  {msg, nil},
		"empty revoking": {mustSign(t, hqcommand.Revocation{ID: "r2"}, key), pub},
	} {
		if _, err := hqcommand.Open(tt.msg, tt.pub); !errors.Is(err, hqcommand.ErrNotSigned) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An acknowledgement holds only under the plant's key.
func TestSignedAck(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	a := hqcommand.Ack{ID: "r1", Site: "plant-a", Applied: 2, At: time.Now().UTC().Truncate(time.Second)}
	msg, err := hqcommand.SignAck(a, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := hqcommand.OpenAck(msg, pub); err != nil || got != a {
		t.Fatalf("opened %+v %v", got, err)
	}
	if _, err := hqcommand.OpenAck(msg, other); !errors.Is(err, hqcommand.ErrNotSigned) {
		t.Fatalf("another key: %v", err)
	}
}

func mustSign(t *testing.T, r hqcommand.Revocation, key ed25519.PrivateKey) []byte {
	t.Helper()
	b, err := hqcommand.Sign(r, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Whatever comes off the broker, Open never panics and never accepts what
// the key did not sign.
func FuzzOpen(f *testing.F) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	good, _ := hqcommand.Sign(hqcommand.Revocation{ID: "r1", EmployeeNumber: "7"}, key)
	f.Add(good)
	f.Add([]byte(`{"revocation":null,"signature":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := hqcommand.Open(b, pub)
		if err == nil && (r.ID == "" || r.EmployeeNumber == "") {
			t.Fatalf("accepted %+v", r)
		}
		if a, err := hqcommand.OpenAck(b, pub); err == nil && a.ID == "" {
			t.Fatalf("acknowledgement accepted: %+v", a)
		}
	})
}
