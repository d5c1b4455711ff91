package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
)

// BenchmarkAppend is one hash-chained event into a WAL SQLite file.
func BenchmarkAppend(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for b.Loop() {
		ev := &event.Event{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press",
			Person: &event.Person{ID: "p-1", Name: "Sato", Kind: "employee"}}
		if err := s.Append(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
