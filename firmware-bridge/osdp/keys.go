package osdp

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// KeyStore keeps each reader's own SCBK, one file a reader, readable by
// the service alone (0600 in a 0700 directory).
type KeyStore struct{ Dir string }

var readerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (k KeyStore) path(reader string) (string, error) {
	if !readerName.MatchString(reader) {
		return "", fmt.Errorf("osdp: reader id %q cannot name a key file", reader)
	}
	return filepath.Join(k.Dir, reader+".scbk"), nil
}

// Load is a reader's key; an error matching os.ErrNotExist when it has
// none yet.
func (k KeyStore) Load(reader string) ([]byte, error) {
	p, err := k.path(reader)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("osdp: key of reader %s: %w", reader, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 16 {
		return nil, fmt.Errorf("osdp: key file %s: want 32 hex digits", p)
	}
	return key, nil
}

// Save keeps a reader's key, replacing the file whole.
func (k KeyStore) Save(reader string, key []byte) error {
	p, err := k.path(reader)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(k.Dir, 0o700); err != nil {
		return fmt.Errorf("osdp: keys: %w", err)
	}
	tmp := p + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("osdp: keys: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("osdp: keys: %w", err)
	}
	return nil
}
