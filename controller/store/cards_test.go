package store

import (
	"context"
	"errors"
	"testing"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// The doors' card index answers like the database, forgets itself on every
// change made here, and notices a change made by another process.
func TestCardIndexFollowsEveryChange(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	p := &sekisho.Person{ID: "p-ito", Name: "伊藤", Kind: "employee", Levels: []string{"staff"}}
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCredential(ctx, &sekisho.Credential{PersonID: p.ID, Format: "H10301", Facility: 12, Number: 601, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	// A change made here is loaded by whoever made it, before it returns.
	if err := s.LoadCards(ctx); err != nil || !s.CardsLoaded() {
		t.Fatalf("LoadCards: %v, loaded %v", err, s.CardsLoaded())
	}
	c, who, err := s.CardHolder(ctx, "H10301", 12, 601, "")
	if err != nil || who.Name != "伊藤" || !c.Enabled || who.Levels[0] != "staff" {
		t.Fatalf("from memory: %+v %+v %v", c, who, err)
	}
	who.Levels[0] = "press-operators" // a caller's edit stays its own
	if _, again, _ := s.CardHolder(ctx, "H10301", 12, 601, ""); again.Levels[0] != "staff" {
		t.Fatalf("the index shares its levels with callers: %v", again.Levels)
	}
	if _, _, err := s.CardHolder(ctx, "H10301", 12, 602, ""); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("unknown card from memory: %v", err)
	}

	// A card added here is in memory as soon as it is added.
	if err := s.AddCredential(ctx, &sekisho.Credential{PersonID: p.ID, Format: "H10301", Facility: 12, Number: 602, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.HeldCard("H10301", 12, 602, ""); err != nil {
		t.Fatalf("new card, from memory: %v", err)
	}
	if moved, err := s.NoticeOutsideChanges(ctx); err != nil || moved {
		t.Fatalf("a change made here counted as an outside one: %v %v", moved, err)
	}

	// Another process (the CLI) disables the card: noticed, then refused.
	other, err := Open(ctx, path, "test-site")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// A store that has not loaded its cards answers the doors with no:
	// never from the database.
	if _, _, err := other.HeldCard("H10301", 12, 601, ""); !errors.Is(err, ErrCardsNotLoaded) {
		t.Fatalf("unloaded index answered: %v", err)
	}
	if _, err := other.DB().ExecContext(ctx, `UPDATE credentials SET enabled = 0 WHERE number = 601`); err != nil {
		t.Fatal(err)
	}
	changed := s.CardsChanged()
	moved, err := s.NoticeOutsideChanges(ctx)
	if err != nil || !moved {
		t.Fatalf("outside change not noticed: %v %v", moved, err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("CardsChanged not woken by an outside change")
	}
	if c, _, err := s.HeldCard("H10301", 12, 601, ""); err != nil || c.Enabled {
		t.Fatalf("disabled elsewhere, still enabled in memory once noticed: %+v %v", c, err)
	}
	if moved, _ := s.NoticeOutsideChanges(ctx); moved {
		t.Fatal("the same outside change noticed twice")
	}
}
