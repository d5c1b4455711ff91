package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/testtool"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sekisho.db")
	s, err := Open(context.Background(), path, "test-site")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func appendN(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		ev := &event.Event{Type: event.AccessGranted, Door: "press-door", ZoneTo: "die-press",
			Person: &event.Person{ID: "p-1", Name: "Sato", Kind: "employee"}}
		if err := s.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendChainsAndSurvivesReopen(t *testing.T) {
	s, path := openTest(t)
	appendN(t, s, 3)
	evs, err := s.After(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].PrevHash != event.GenesisHash || evs[1].PrevHash != evs[0].Hash || evs[2].Seq != 3 {
		t.Fatalf("chain: %+v", evs)
	}
	s.Close()
	s2, err := Open(context.Background(), path, "test-site")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ev := &event.Event{Type: event.DoorOpened, Door: "press-door"}
	if err := s2.Append(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if ev.Seq != 4 || ev.PrevHash != evs[2].Hash {
		t.Fatalf("after reopen: seq %d prev %s", ev.Seq, ev.PrevHash)
	}
	v, err := s2.Verify(context.Background())
	if err != nil || !v.OK || v.Count != 4 {
		t.Fatalf("verify %+v %v", v, err)
	}
}

func TestAppendOnlyTriggers(t *testing.T) {
	s, _ := openTest(t)
	appendN(t, s, 1)
	if _, err := s.DB().Exec(`UPDATE events SET door = 'x'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update: %v", err)
	}
	if _, err := s.DB().Exec(`DELETE FROM events`); err == nil {
		t.Fatal("delete allowed")
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  []string
		badSeq  int64
		problem string
	}{
		{"edited body", []string{`UPDATE events SET body = replace(body, '"Sato"', '"Suzuki"') WHERE seq = 3`}, 3, "hash does not match"},
		{"edited column", []string{`UPDATE events SET door = 'dev-door' WHERE seq = 2`}, 2, "columns differ"},
		{"deleted row", []string{`DELETE FROM events WHERE seq = 3`}, 3, "seq 3 is missing"},
		{"swapped pair", []string{
			`UPDATE events SET seq = -1 WHERE seq = 2`,
			`UPDATE events SET seq = 2 WHERE seq = 3`,
			`UPDATE events SET seq = 3 WHERE seq = -1`,
		}, 2, "prev_hash does not match"},
		{"rehashed edit", []string{
			// Editing a row and fixing its own hash still breaks the link of the next row.
			`UPDATE events SET hash = '` + strings.Repeat("a", 64) + `' WHERE seq = 2`,
		}, 2, "hash does not match"},
		{"truncated tail", []string{`INSERT INTO outbox VALUES ('mqtt', 5)`, `DELETE FROM events WHERE seq = 5`}, 5, "published but are gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t)
			appendN(t, s, 5)
			for _, tr := range []string{"events_append_only_update", "events_append_only_delete"} {
				if _, err := s.DB().Exec(`DROP TRIGGER ` + tr); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range tt.tamper {
				if _, err := s.DB().Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			v, err := s.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.BadSeq != tt.badSeq || !strings.Contains(v.Problem, tt.problem) {
				t.Fatalf("verify = %+v, want bad seq %d with %q", v, tt.badSeq, tt.problem)
			}
		})
	}
}

func TestEventFilters(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for _, ev := range []*event.Event{
		{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press"},
		{Type: event.DoorOpened, Door: "press-door"},
		{Type: event.AccessDenied, Door: "main-entrance", ZoneFrom: "outside", ZoneTo: "lobby", Reason: event.ReasonUnknownCredential},
		{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "die-press", ZoneTo: "floor"},
	} {
		if err := s.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		f    Filter
		seqs []int64
	}{
		{Filter{}, []int64{4, 3, 2, 1}},
		{Filter{Door: "press-door"}, []int64{4, 2, 1}},
		{Filter{Zone: "die-press"}, []int64{4, 1}},
		{Filter{Type: "access."}, []int64{4, 3, 1}},
		{Filter{Type: event.AccessDenied}, []int64{3}},
		{Filter{AfterSeq: 2}, []int64{4, 3}},
		{Filter{Limit: 1}, []int64{4}},
		{Filter{Until: time.Now().Add(-time.Hour)}, nil},
	}
	for _, tt := range tests {
		evs, err := s.Events(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range evs {
			got = append(got, e.Seq)
		}
		if len(got) != len(tt.seqs) || (len(got) > 0 && got[0] != tt.seqs[0]) {
			t.Errorf("%+v: seqs %v, want %v", tt.f, got, tt.seqs)
		}
	}
}

func TestCardHolderAndValidity(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	p := &sekisho.Person{Name: "佐藤 健二", Kind: "employee", Levels: []string{"press-operators"}}
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	c := &sekisho.Credential{PersonID: p.ID, Format: "H10301", Facility: 12, Number: 345, Enabled: true}
	if err := s.AddCredential(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCredential(ctx, &sekisho.Credential{PersonID: p.ID, Format: "H10301", Facility: 12, Number: 345}); !errors.Is(err, sekisho.ErrDuplicate) {
		t.Fatalf("duplicate card: %v", err)
	}
	got, who, err := s.CardHolder(ctx, "H10301", 12, 345, "")
	if err != nil || who.Name != "佐藤 健二" || got.ID != c.ID || who.Levels[0] != "press-operators" {
		t.Fatalf("CardHolder: %+v %+v %v", got, who, err)
	}
	if _, _, err := s.CardHolder(ctx, "H10301", 12, 999, ""); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("unknown card: %v", err)
	}
	c.ValidUntil = "2026-01-01T00:00:00Z"
	if c.ValidAt(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("expired credential valid")
	}
}

func TestLoginSessionsAndTokens(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if err := s.CreateUser(ctx, "yamada", sekisho.RoleGuard, nil, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Login(ctx, "yamada", "wrong", time.Now(), time.Hour); !errors.Is(err, sekisho.ErrBadLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := s.Login(ctx, "nobody", "x", time.Now(), time.Hour); !errors.Is(err, sekisho.ErrBadLogin) {
		t.Fatalf("unknown user: %v", err)
	}
	tok, p, err := s.Login(ctx, "yamada", "correct horse", time.Now(), time.Hour)
	if err != nil || p.Role != sekisho.RoleGuard {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, tok, time.Now(), 15*time.Minute); err != nil || got.Name != "yamada" {
		t.Fatalf("session: %+v %v", got, err)
	}
	// Used 10 minutes on, the session goes on; 16 minutes after that use,
	// it is over, and stays over.
	if _, err := s.Session(ctx, tok, time.Now().Add(10*time.Minute), 15*time.Minute); err != nil {
		t.Fatalf("session used within the idle limit: %v", err)
	}
	if _, err := s.Session(ctx, tok, time.Now().Add(26*time.Minute), 15*time.Minute); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("idle session: %v", err)
	}
	if _, err := s.Session(ctx, tok, time.Now(), 15*time.Minute); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("an idle session came back: %v", err)
	}
	expired, _, _ := s.Login(ctx, "yamada", "correct horse", time.Now(), -time.Minute)
	if _, err := s.Session(ctx, expired, time.Now(), 0); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	api, _, err := s.CreateToken(ctx, sekisho.RoleManager, []string{"die-press"}, "ci", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Token(ctx, api); err != nil || got.Role != sekisho.RoleManager || got.Zones[0] != "die-press" {
		t.Fatalf("token: %+v %v", got, err)
	}
	// Revoked or past its end, a token opens nothing.
	old, oldID, _ := s.CreateToken(ctx, sekisho.RoleGuard, nil, "old", time.Now().Add(-time.Second))
	if _, err := s.Token(ctx, old); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("expired token: %v", err)
	}
	_, apiID, _ := s.CreateToken(ctx, sekisho.RoleGuard, nil, "b", time.Time{})
	if err := s.RevokeToken(ctx, apiID); err != nil {
		t.Fatal(err)
	}
	list, _ := s.Tokens(ctx)
	if len(list) != 3 || list[0].LastUsed == "" || list[2].RevokedAt == "" || list[1].ID != oldID || list[1].ExpiresAt == "" {
		t.Fatalf("token list: %+v", list)
	}
	var stored int
	s.DB().QueryRow(`SELECT COUNT(*) FROM tokens WHERE token_hash = ?`, api).Scan(&stored)
	if stored != 0 {
		t.Fatal("token stored in plain text")
	}
}

// Two processes append to one log (the site and the CLI adding a user):
// the second's stale head is met by the first's row and it appends after
// it; an event appended twice is a duplicate, matched by code.
func TestAppendFromTwoStoresAndDuplicates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "two.db")
	a, err := Open(ctx, path, "t")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path, "t")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	first := &event.Event{Type: event.SystemStarted}
	if err := a.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := b.Append(ctx, &event.Event{Type: event.SystemStarted}); err != nil {
		t.Fatalf("append after another store's: %v", err)
	}
	again := &event.Event{ID: first.ID, Type: event.SystemStarted}
	if err := b.Append(ctx, again); !errors.Is(err, sekisho.ErrDuplicate) {
		t.Fatalf("an event appended twice: %v, want ErrDuplicate", err)
	}
	if err := a.CreateUser(ctx, "guard", sekisho.RoleGuard, nil, "pw-12345678"); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateUser(ctx, "guard", sekisho.RoleGuard, nil, "pw-12345678"); !errors.Is(err, sekisho.ErrDuplicate) {
		t.Fatalf("a name taken twice: %v, want ErrDuplicate", err)
	}
}

// A walk while the doors append and the outbox publishes finds the log
// intact: what is published and what is in the log are read as one.
func TestVerifyWhileEventsArePublished(t *testing.T) {
	s, _ := openTest(t)
	appendN(t, s, 5)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			ev := &event.Event{Type: event.AccessGranted, Door: "press-door"}
			if s.Append(ctx, ev) != nil || s.SetDelivered(ctx, "mqtt", ev.Seq) != nil {
				return
			}
		}
	}()
	for range 50 {
		if v, err := s.Verify(t.Context()); err != nil || !v.OK {
			cancel()
			testtool.Recv(t, done, 10*time.Second, "the publisher to stop")
			t.Fatalf("verify while publishing: %+v %v", v, err)
		}
	}
	cancel()
	testtool.Recv(t, done, 10*time.Second, "the publisher to stop")
}

// An export's pages, read in ranges on every core, are every selected
// event once, newest first, whatever the ranges' size; a reader that stops
// stops the export.
func TestEventPagesAcrossRanges(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	for i := range 100 {
		ev := &event.Event{Type: event.AccessGranted, Door: "press-door", ZoneTo: "die-press"}
		if i%3 == 0 {
			ev = &event.Event{Type: event.DoorOpened, Door: "floor-door"}
		}
		if err := s.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	was := pageSpan
	t.Cleanup(func() { pageSpan = was })
	for _, span := range []int64{1, 7, 64, 8192} {
		pageSpan = span
		for _, f := range []Filter{{}, {Zone: "die-press"}, {Door: "floor-door"}, {AfterSeq: 10, BeforeSeq: 50}, {Type: "nosuch"}} {
			var want []int64
			for g := f; ; {
				g.Limit = 7
				page, err := s.Events(ctx, g)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range page {
					want = append(want, ev.Seq)
				}
				if len(page) < 7 {
					break
				}
				g.BeforeSeq = page[len(page)-1].Seq
			}
			var got []int64
			if err := s.EventPages(ctx, f, func(evs []event.Event) error {
				for _, ev := range evs {
					got = append(got, ev.Seq)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("span %d, %+v: pages %v, want %v", span, f, got, want)
			}
		}
		stop := errors.New("enough")
		if err := s.EventPages(ctx, Filter{}, func([]event.Event) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("span %d: a reader that stops: %v", span, err)
		}
	}
}

// A log opened by its file alone (the CLI's --db) appends in the site's
// name all the same: head office refuses an event of no site.
func TestOpenedByFileKeepsTheSite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "log.db")
	s, err := Open(ctx, path, "hamamatsu")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, &event.Event{Type: event.SystemStarted}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := &event.Event{Type: event.TokenCreated}
	if err := s.Append(ctx, ev); err != nil || ev.Site != "hamamatsu" {
		t.Fatalf("appended as %q: %v", ev.Site, err)
	}
}
