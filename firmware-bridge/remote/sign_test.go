package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDoorPiObeysOnlyItsControllerInOrder(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	signer := &Signer{Key: key, Bridge: "door-pi-1"}
	cmd := []byte(`{"op":"unlock","door":"press-door","pulse_ms":4000}`)

	first := signer.Sign(KindCommand, cmd, now)
	second := signer.Sign(KindCommand, cmd, now) // same instant: still a higher seq
	tampered := func() []byte {
		var m Signed
		_ = json.Unmarshal(signer.Sign(KindCommand, cmd, now), &m)
		m.Body = []byte(`{"op":"unlock","door":"press-door","pulse_ms":600000}`)
		b, _ := json.Marshal(m)
		return b
	}()
	tests := []struct {
		name string
		raw  []byte
		kind string
		at   time.Time
		want error
	}{
		{"unsigned JSON command", cmd, KindCommand, now, ErrUnsigned},
		{"garbage", []byte("\x00\xff{"), KindCommand, now, ErrUnsigned},
		{"signed by another key", (&Signer{Key: otherKey, Bridge: "door-pi-1"}).Sign(KindCommand, cmd, now), KindCommand, now, ErrBadSignature},
		{"body changed after signing", tampered, KindCommand, now, ErrBadSignature},
		{"for another door Pi", (&Signer{Key: key, Bridge: "door-pi-2"}).Sign(KindCommand, cmd, now), KindCommand, now, ErrOtherBridge},
		{"a command posing as a snapshot", first, KindSnapshot, now, ErrWrongKind},
		{"stale", signer.Sign(KindCommand, cmd, now.Add(-time.Minute)), KindCommand, now, ErrStale},
		{"from the future", signer.Sign(KindCommand, cmd, now.Add(time.Minute)), KindCommand, now, ErrStale},
		{"first", first, KindCommand, now, nil},
		{"first again (replay)", first, KindCommand, now, ErrReplayed},
		{"second", second, KindCommand, now.Add(time.Second), nil},
		{"first after the second", first, KindCommand, now, ErrReplayed},
		{"an older one, never seen, arriving late", signer.Sign(KindCommand, cmd, now.Add(-time.Second)), KindCommand, now, nil},
	}
	v := &Verifier{Key: pub, Bridge: "door-pi-1"}
	for _, tt := range tests {
		m, err := v.Open(tt.raw, tt.kind, tt.at)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if tt.want == nil && (err != nil || string(m.Body) != string(cmd)) {
			t.Errorf("%s: body %q", tt.name, m.Body)
		}
	}
	// A restarted door Pi resumes from the seq it kept.
	restarted := &Verifier{Key: pub, Bridge: "door-pi-1"}
	restarted.Resume(KindCommand, v.Obeyed(KindCommand))
	if _, err := restarted.Open(second, KindCommand, now); !errors.Is(err, ErrReplayed) {
		t.Errorf("replay after restart: %v", err)
	}
}

func TestSnapshotIsReadableOnlyByItsDoorPi(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	mine, _ := NewEnrolment("door-pi-1", "s", "sekisho/s", pub)
	other, _ := NewEnrolment("door-pi-2", "s", "sekisho/s", pub)
	snap := &Snapshot{Version: "v1", Cards: []SnapshotCard{{CardKey: CardKey{Format: "H10301", Facility: 1, Number: 2}, PINHash: "secret-hash"}}}
	sealed, err := SealCards(&CardsBody{Snapshot: snap}, mine.BoxPublic)
	if err != nil {
		t.Fatal(err)
	}
	if json.Valid(sealed) || containsBytes(sealed, "secret-hash") || containsBytes(sealed, "H10301") {
		t.Fatal("the sealed snapshot shows its content")
	}
	got, err := mine.OpenCards(sealed)
	if err != nil || got.Snapshot.Cards[0].PINHash != "secret-hash" {
		t.Fatalf("own door Pi: %v %+v", err, got)
	}
	if _, err := other.OpenCards(sealed); err == nil {
		t.Fatal("another door Pi opened the snapshot")
	}
}

func containsBytes(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// FuzzCards: no bytes on a door Pi's cards topic crash it, and nothing
// unsigned or sealed to another key is opened.
func FuzzCards(f *testing.F) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	e, _ := NewEnrolment("door-pi-1", "s", "sekisho/s", pub)
	sealed, _ := SealCards(&CardsBody{Delta: &Delta{From: "a", To: "b"}}, e.BoxPublic)
	f.Add((&Signer{Key: key, Bridge: "door-pi-1"}).SignCards(sealed, time.Now()))
	f.Add([]byte("SKC1"))
	f.Add([]byte(`{"snapshot":{}}`))
	v := &Verifier{Key: pub, Bridge: "door-pi-1"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, body, err := v.VerifyCards(raw)
		if err != nil {
			return
		}
		if b, err := e.OpenCards(body); err == nil && (b.Snapshot == nil) == (b.Delta == nil) {
			t.Fatalf("opened neither or both: %+v", b)
		}
	})
}
