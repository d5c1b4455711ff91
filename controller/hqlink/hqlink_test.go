package hqlink

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/hqcommand"
)

// A revocation is applied once, only under head office's key; heard again
// it is acknowledged again without being applied twice.
func TestRevocationAppliedOnceUnderHeadOfficesKey(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	applied := map[string]int{}
	calls := 0
	l := &Link{Site: "plant-a", Key: pub, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Revoke: func(_ context.Context, r hqcommand.Revocation) (int, error) {
			calls++
			applied[r.ID] = 2
			return 2, nil
		},
		Applied: func(_ context.Context, id string) (int, bool, error) {
			n, ok := applied[id]
			return n, ok, nil
		}}
	r := hqcommand.Revocation{ID: "rv-1", EmployeeNumber: "E-77", By: "honsha", IssuedAt: time.Now().UTC()}
	good, _ := hqcommand.Sign(r, key)
	forged, _ := hqcommand.Sign(r, other)
	if _, ok := l.revoke(context.Background(), forged); ok || calls != 0 {
		t.Fatalf("a revocation under another key: acknowledged %v, applied %d times", ok, calls)
	}
	for range 2 {
		ack, ok := l.revoke(context.Background(), good)
		if !ok || ack.ID != "rv-1" || ack.Applied != 2 || ack.Site != "plant-a" {
			t.Fatalf("ack %+v %v", ack, ok)
		}
	}
	if calls != 1 {
		t.Fatalf("applied %d times", calls)
	}
}
