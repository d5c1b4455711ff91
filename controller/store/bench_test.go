package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
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

// BenchmarkLoadCards is the reload after a change to people or cards, with
// 10,000 cardholders: doors read the database until it is done.
func BenchmarkLoadCards(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 10000 {
		p := &sekisho.Person{ID: fmt.Sprintf("p-%d", i), Name: fmt.Sprintf("Worker %d", i), Kind: "employee", Levels: []string{"staff"}}
		if err := s.CreatePerson(ctx, p); err != nil {
			b.Fatal(err)
		}
		if err := s.AddCredential(ctx, &sekisho.Credential{PersonID: p.ID, Format: "H10301", Facility: uint64(i / 65536), Number: uint64(i % 65536), Enabled: true}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		s.cards.drop()
		if err := s.LoadCards(ctx); err != nil || !s.CardsLoaded() {
			b.Fatal(err)
		}
	}
}
