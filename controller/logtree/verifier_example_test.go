package logtree_test

// verifyProof is the README's example verifier, word for word: what a
// customer runs on a .tlog-proof file with nothing but standard Go
// (golang.org/x/mod/sumdb/note and tlog). The tests run it on the site's
// proofs and on tampered copies.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// verifyProof checks a c2sp.org/tlog-proof@v1 file against the site's
// verifier key and returns the event's bytes.
func verifyProof(file []byte, verifierKey string) ([]byte, error) {
	head, checkpoint, ok := bytes.Cut(file, []byte("\n\n"))
	lines := strings.Split(string(head), "\n")
	if !ok || len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") {
		return nil, errors.New("not a tlog-proof with the event's bytes")
	}
	event, err1 := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
	index, err2 := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
	var path tlog.RecordProof
	for _, l := range lines[3:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != tlog.HashSize {
			return nil, errors.New("bad hash in the inclusion path")
		}
		path = append(path, tlog.Hash(h))
	}
	verifier, err3 := note.NewVerifier(verifierKey)
	n, err4 := note.Open(checkpoint, note.VerifierList(verifier))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	body := strings.Split(n.Text, "\n") // origin, size, root
	size, err5 := strconv.ParseInt(body[1], 10, 64)
	root, err6 := base64.StdEncoding.DecodeString(body[2])
	if err := errors.Join(err5, err6); err != nil || len(root) != tlog.HashSize {
		return nil, errors.New("bad checkpoint")
	}
	return event, tlog.CheckRecord(path, size, tlog.Hash(root), index, tlog.RecordHash(event))
}
