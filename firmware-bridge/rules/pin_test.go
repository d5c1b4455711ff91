package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestPINHashes(t *testing.T) {
	h := HashPIN("2468")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=6144,t=2,p=1$") || Legacy(h) {
		t.Fatalf("hash form: %s", h)
	}
	if h == HashPIN("2468") {
		t.Fatal("two hashes of one PIN are the same: no salt")
	}
	sum := sha256.Sum256([]byte("salt" + "1357"))
	old := "salt$" + hex.EncodeToString(sum[:])
	for _, c := range []struct {
		stored, pin string
		want        bool
	}{
		{h, "2468", true},
		{h, "2469", false},
		{h, "", false},
		{old, "1357", true}, // the old form checks until the PIN is next set
		{old, "1358", false},
		{"", "", false},
		{"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5", "2468", false}, // a doctored cost is refused, not run
		{"$argon2id$v=18$m=6144,t=2,p=1$c2FsdA$a2V5", "2468", false},
		{"$argon2id$garbage", "2468", false},
		{strings.Replace(h, "$argon2id$", "$argon2i$", 1), "2468", false},
	} {
		if got := CheckPIN(c.stored, c.pin); got != c.want {
			t.Errorf("CheckPIN(%q, %q) = %v", c.stored, c.pin, got)
		}
	}
	if !Legacy(old) || Legacy("") {
		t.Fatal("Legacy")
	}
}

// BenchmarkCheckPIN is one card-and-PIN check, as a door Pi or the
// controller makes it.
func BenchmarkCheckPIN(b *testing.B) {
	h := HashPIN("2468")
	for b.Loop() {
		if !CheckPIN(h, "2468") {
			b.Fatal("no match")
		}
	}
}
