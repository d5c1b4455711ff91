package rules

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// A PIN is four to eight digits: whoever copies a door Pi's SD card can try
// them all. Argon2id makes each try cost memory as well as time: every PIN
// of a door Pi's cards fell to the old salted SHA-256 in 0.03 s; now each
// card's 4-digit PIN costs minutes of a core and a 6-digit one hours. The
// parameters are what a Raspberry Pi 3 checks within its 150 ms budget for
// a card-and-PIN door: BenchmarkCheckPIN takes 10–15 ms on this project's
// amd64 machine, and the Pi 3's Cortex-A53 and LPDDR2 are six to ten times
// slower (an estimate: no Pi 3 was at hand to measure).
const (
	pinTime    = 2
	pinMemory  = 6 << 10 // KiB: 6 MiB
	pinThreads = 1
	pinKeyLen  = 32
)

// pinPrefix marks the Argon2id form; stored PINs without it are the old
// salt$sha256(salt‖pin) form, still checked until the PIN is next set.
const pinPrefix = "$argon2id$"

// HashPIN salts and hashes a PIN for storage in the PHC string form
// $argon2id$v=19$m=6144,t=2,p=1$salt$hash.
func HashPIN(pin string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pin), salt, pinTime, pinMemory, pinThreads, pinKeyLen)
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", pinPrefix, argon2.Version, pinMemory, pinTime, pinThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPIN reports whether pin matches a stored HashPIN value, of either
// form. A stored value that is neither matches nothing.
func CheckPIN(stored, pin string) bool {
	if rest, ok := strings.CutPrefix(stored, pinPrefix); ok {
		return checkArgon2id(rest, pin)
	}
	salt, want, ok := strings.Cut(stored, "$")
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(salt + pin))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) == 1
}

// Legacy says whether a stored PIN is in the old form, to be hashed anew
// when the PIN is next set.
func Legacy(stored string) bool { return stored != "" && !strings.HasPrefix(stored, pinPrefix) }

func checkArgon2id(rest, pin string) bool {
	parts := strings.Split(rest, "$")
	if len(parts) != 4 {
		return false
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[0], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[1], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false
	}
	// Bounds, so a doctored value cannot make a check take the Pi's memory.
	if memory == 0 || memory > 64<<10 || time == 0 || time > 10 || threads == 0 || threads > 4 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[2])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
