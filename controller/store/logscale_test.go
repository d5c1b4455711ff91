package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

var fillDoors = []FillDoor{{"press-door", "floor", "die-press"}, {"dev-door", "floor", "dev-room"}, {"main", "outside", "floor"}}

func filled(t *testing.T, n int64, days int) *Store {
	t.Helper()
	s, _ := openTest(t)
	end := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
	if err := s.Fill(context.Background(), FillSpec{Events: n, Days: days, End: end, Doors: fillDoors, Seed: 7}, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// A filled history is what the log itself would have written: each body
// is the event's canonical JSON, the chain verifies, and the indexes and
// hour map are back.
func TestFillWritesACanonicalChain(t *testing.T) {
	s := filled(t, 3000, 3)
	evs, err := s.After(context.Background(), 0, 3000)
	if err != nil || len(evs) != 3000 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	var stored string
	for _, ev := range evs[:30] {
		if err := s.db.QueryRow(`SELECT body FROM events WHERE seq = ?`, ev.Seq).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		again, _ := ev.Canonical()
		if string(again) != stored {
			t.Fatalf("seq %d body is not canonical:\n%s\n%s", ev.Seq, stored, again)
		}
	}
	if !evs[len(evs)-1].Time.After(evs[0].Time) {
		t.Fatal("times do not rise")
	}
	v, err := s.Verify(context.Background())
	if err != nil || !v.OK || v.Count != 3000 {
		t.Fatalf("verify %+v %v", v, err)
	}
	var indexes, hours int
	s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE type IN ('index', 'trigger') AND name LIKE 'events_%'`).Scan(&indexes)
	s.db.QueryRow(`SELECT COUNT(*) FROM event_hours`).Scan(&hours)
	if indexes != 5+1+2 || hours < 3*16 {
		t.Fatalf("%d indexes and triggers, %d hours", indexes, hours)
	}
	// A second fill goes on from the head.
	if err := s.Fill(context.Background(), FillSpec{Events: 10, Days: 1, Doors: fillDoors}, nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Verify(context.Background()); !v.OK || v.Count != 3010 {
		t.Fatalf("after a second fill: %+v", v)
	}
}

func TestFillRefusesARealSite(t *testing.T) {
	s, _ := openTest(t)
	appendN(t, s, 1)
	err := s.Fill(context.Background(), FillSpec{Events: 10, Days: 1, Doors: fillDoors}, nil)
	if !errors.Is(err, ErrRealSite) {
		t.Fatalf("fill on a real log: %v", err)
	}
}

// The walk cuts the log in ranges checked at once; tampering right where
// two ranges meet is found as a single walk would find it.
func TestVerifyAcrossRanges(t *testing.T) {
	defer func(n int64) { verifyChunk = n }(verifyChunk)
	verifyChunk = 7
	for _, bad := range []int64{7, 8, 15, 22} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			s := filled(t, 30, 1)
			dropTriggers(t, s)
			if _, err := s.db.Exec(`DELETE FROM events WHERE seq = ?`, bad); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var done, total int64
			v, err := s.VerifyWith(context.Background(), VerifyOptions{Progress: func(d, t int64) {
				mu.Lock()
				done, total = max(done, d), t
				mu.Unlock()
			}})
			if err != nil || v.OK || v.BadSeq != bad || v.Count != bad-1 {
				t.Fatalf("verify = %+v, %v; want bad %d", v, err, bad)
			}
			if total != 30 || done != 30 {
				t.Fatalf("progress %d of %d", done, total)
			}
		})
	}
}

func dropTriggers(t *testing.T, s *Store) {
	t.Helper()
	for _, tr := range []string{"events_append_only_update", "events_append_only_delete", "checkpoints_append_only_update", "checkpoints_append_only_delete"} {
		if _, err := s.DB().Exec(`DROP TRIGGER ` + tr); err != nil {
			t.Fatal(err)
		}
	}
}

// The quick column check and the decoding one agree on every kind of row
// the log holds, and the quick one never passes a row the other refuses.
func TestCanonicalColumnsAgreeWithDecoding(t *testing.T) {
	evs := []event.Event{
		{ID: "a", Seq: 1, Site: "s", Type: event.DoorOpened, Door: "d"},
		{ID: "b", Seq: 2, Site: "s", Type: event.AccessGranted, Door: "d", Reader: "r", Side: "in", ZoneFrom: "x", ZoneTo: "y", Person: &event.Person{ID: "p"}},
		{ID: "c", Seq: 3, Site: "s", Type: event.AlarmRaised, ZoneTo: "y"},
		{ID: "d<&>", Seq: 4, Site: "工場", Type: event.SystemStarted},
	}
	for _, ev := range evs {
		body, _ := ev.Canonical()
		pid := ""
		if ev.Person != nil {
			pid = ev.Person.ID
		}
		right := [6][]byte{[]byte(ev.ID), []byte(ev.Type), []byte(ev.Door), []byte(ev.ZoneFrom), []byte(ev.ZoneTo), []byte(pid)}
		quick := canonicalColumns(body, ev.Seq, &right)
		if want := !strings.ContainsAny(ev.ID, "<&>"); quick != want {
			t.Errorf("seq %d: quick check %v, want %v", ev.Seq, quick, want)
		}
		for i := range right {
			wrong := right
			wrong[i] = []byte("zz")
			if canonicalColumns(body, ev.Seq, &wrong) {
				t.Errorf("seq %d: quick check passed a wrong column %d", ev.Seq, i)
			}
		}
		if canonicalColumns(body, ev.Seq+1, &right) {
			t.Errorf("seq %d: quick check passed a wrong seq", ev.Seq)
		}
		var back chainedColumns
		if err := json.Unmarshal(body, &back); err != nil || back.ID != ev.ID {
			t.Fatal(err)
		}
	}
}

// Checkpoints kept elsewhere catch what verify alone cannot: a tail cut
// together with the outbox's mark, and a chain re-hashed from scratch
// after an entry was taken out.
func TestCheckpointsCatchACutTailAndARewrittenChain(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	ctx := context.Background()
	setup := func(t *testing.T) (*Store, []event.Checkpoint) {
		s, _ := openTest(t)
		var kept []event.Checkpoint
		for range 3 {
			appendN(t, s, 10)
			c, made, err := s.Checkpoint(ctx, key, time.Now())
			if err != nil || !made {
				t.Fatal(made, err)
			}
			kept = append(kept, c)
		}
		if _, made, _ := s.Checkpoint(ctx, key, time.Now()); made {
			t.Fatal("a second checkpoint of the same head")
		}
		appendN(t, s, 5)
		dropTriggers(t, s)
		return s, kept
	}

	t.Run("intact", func(t *testing.T) {
		s, kept := setup(t)
		got, err := s.Vouch(ctx, kept, pub)
		if err != nil || got.Unvouched != 0 || got.Checked != 3 || got.Through != 30 {
			t.Fatalf("%+v %v", got, err)
		}
		last, _, _ := s.LastCheckpoint(ctx)
		v, err := s.VerifyWith(ctx, VerifyOptions{From: &last})
		if err != nil || !v.OK || v.Count != 5 {
			t.Fatalf("incremental verify %+v %v", v, err)
		}
	})
	t.Run("cut tail", func(t *testing.T) {
		s, kept := setup(t)
		for _, q := range []string{`DELETE FROM events WHERE seq > 22`, `DELETE FROM checkpoints WHERE seq > 22`, `UPDATE outbox SET last_seq = 22`} {
			if _, err := s.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		if v, _ := s.Verify(ctx); !v.OK {
			t.Fatalf("verify alone should not see this cut: %+v", v)
		}
		got, err := s.Vouch(ctx, kept, pub)
		if err != nil || got.Unvouched != 21 || !strings.Contains(got.Problem, "cut") {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("rewritten chain", func(t *testing.T) {
		s, kept := setup(t)
		rehashWithout(t, s, 15)
		if v, _ := s.Verify(ctx); !v.OK {
			t.Fatalf("the rewritten chain should verify on its own: %+v", v)
		}
		got, err := s.Vouch(ctx, kept, pub)
		if err != nil || got.Unvouched != 11 || !strings.Contains(got.Problem, "rewritten") {
			t.Fatalf("%+v %v", got, err)
		}
		// The kept checkpoint in the database is caught too, if not replaced.
		v, err := s.VerifyWith(ctx, VerifyOptions{From: &kept[2]})
		if err != nil || v.OK {
			t.Fatalf("incremental verify from a checkpoint of the old chain: %+v %v", v, err)
		}
	})
	t.Run("forged checkpoint", func(t *testing.T) {
		s, kept := setup(t)
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		forged := event.SignCheckpoint(other, "test-site", kept[0].Seq, kept[0].Hash, time.Now())
		if _, err := s.Vouch(ctx, []event.Checkpoint{forged}, pub); !errors.Is(err, event.ErrBadCheckpoint) {
			t.Fatalf("a checkpoint signed by another key: %v", err)
		}
		kept[1].Seq++
		if _, err := s.Vouch(ctx, kept, pub); !errors.Is(err, event.ErrBadCheckpoint) {
			t.Fatalf("an altered checkpoint: %v", err)
		}
	})
}

// rehashWithout removes one event and rewrites every later one, as an
// insider with the file and the chain's rules would.
func rehashWithout(t *testing.T, s *Store, drop int64) {
	t.Helper()
	evs, err := s.After(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`DELETE FROM events; DELETE FROM event_hours`); err != nil {
		t.Fatal(err)
	}
	s.head = chainHead{hash: event.GenesisHash}
	for _, ev := range evs {
		if ev.Seq == drop {
			continue
		}
		ev.Seq, ev.PrevHash, ev.Hash = 0, "", ""
		if err := s.Append(context.Background(), &ev); err != nil {
			t.Fatal(err)
		}
	}
}

// Every filter, over a log whose times are not in seq order (a door Pi
// reports offline decisions late), answers exactly what reading the whole
// log would: the seq windows and per-zone walks only make it quick.
func TestFiltersAnswerAsAFullReadWould(t *testing.T) {
	s := filled(t, 3000, 4)
	ctx := context.Background()
	// Late reports: events stamped days back, logged now.
	for i := range 40 {
		d := fillDoors[i%3]
		ev := &event.Event{Type: event.AccessGranted, Door: d.ID, ZoneFrom: d.ZoneFrom, ZoneTo: d.ZoneTo,
			Time:   time.Date(2026, 11, 27+i%4, 7+i%12, i, 0, 0, time.UTC),
			Person: &event.Person{ID: fmt.Sprintf("late-%d", i%3)}}
		if err := s.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.After(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	for _, f := range []Filter{
		{Zone: "die-press", Limit: 100},
		{Zones: []string{"die-press", "dev-room"}, Limit: 100},
		{Zones: []string{"die-press", "dev-room"}, Since: day(28), Until: day(29), Limit: 100},
		{Zone: "floor", Since: day(27).Add(9 * time.Hour), Until: day(27).Add(10 * time.Hour)},
		{Zone: "dev-room", Zones: []string{"die-press"}},
		{Door: "main", Since: day(29), Limit: 50},
		{Person: "late-1"},
		{Person: "fill-0007", Until: day(29)},
		{Zone: "die-press", Type: event.AccessDenied},
		{Zone: "die-press", BeforeSeq: 1500, Limit: 20},
		{Since: day(30), Limit: 10},
		{Since: day(1), Until: day(2)},
	} {
		got, err := s.Events(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for i := len(all) - 1; i >= 0 && len(want) < max(f.Limit, 1) || (f.Limit == 0 && i >= 0 && len(want) < MaxLimit); i-- {
			if matches(all[i], f) {
				want = append(want, all[i].Seq)
			}
		}
		var seqs []int64
		for _, ev := range got {
			seqs = append(seqs, ev.Seq)
		}
		if fmt.Sprint(seqs) != fmt.Sprint(want) {
			t.Errorf("%+v:\n got %v\nwant %v", f, seqs, want)
		}
	}
}

func matches(ev event.Event, f Filter) bool {
	inZone := func(z string) bool { return z != "" && (ev.ZoneFrom == z || ev.ZoneTo == z) }
	switch {
	case f.Zone != "" && !inZone(f.Zone),
		len(f.Zones) > 0 && !slicesAny(f.Zones, inZone),
		f.Door != "" && ev.Door != f.Door,
		f.Type != "" && ev.Type != f.Type,
		f.Person != "" && (ev.Person == nil || ev.Person.ID != f.Person),
		!f.Since.IsZero() && ev.Time.Before(f.Since),
		!f.Until.IsZero() && !ev.Time.Before(f.Until),
		f.BeforeSeq > 0 && ev.Seq >= f.BeforeSeq:
		return false
	}
	return true
}

func slicesAny(zs []string, f func(string) bool) bool {
	for _, z := range zs {
		if f(z) {
			return true
		}
	}
	return false
}

// A write-ahead log that grew while something held it (a backup, a long
// export) is cut back by the next flush once it is let go.
func TestWriteAheadLogIsCutBack(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	appendN(t, s, 2)
	// An open read holds its snapshot: nothing can be folded in past it.
	held, err := s.db.QueryContext(ctx, `SELECT seq FROM events`)
	if err != nil || !held.Next() {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4000)
	for range 3000 {
		if err := s.Append(ctx, &event.Event{Type: event.DoorOpened, Door: "d", Detail: map[string]string{"pad": big}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FlushWAL(ctx); err != nil {
		t.Fatal(err)
	}
	if s.WALSize() <= walLimit {
		t.Fatalf("the WAL did not grow while held (%d bytes): the test proves nothing", s.WALSize())
	}
	held.Close()
	if err := s.FlushWAL(ctx); err != nil {
		t.Fatal(err)
	}
	if s.WALSize() > walLimit {
		t.Fatalf("WAL still %d bytes after a flush", s.WALSize())
	}
}

// Two processes append to one log (the CLI adding a user while the site
// logs a busy door): each append lands once, chained, none refused.
func TestTwoWritersOnOneLog(t *testing.T) {
	a, path := openTest(t)
	b, err := Open(context.Background(), path, "test-site")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			for range 200 {
				if err := s.Append(context.Background(), &event.Event{Type: event.DoorOpened, Door: "d"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	v, err := a.Verify(context.Background())
	if err != nil || !v.OK || v.Count != 400 {
		t.Fatalf("%+v %v", v, err)
	}
}

// A file of bad rows is answered with the first hundred and a count, not
// with every one.
func TestImportErrorsAreBounded(t *testing.T) {
	s, _ := openTest(t)
	var b strings.Builder
	b.WriteString("id,name,kind,format,facility,number\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "p-%d,,alien,H10301,1,%d\n", i, i)
	}
	_, err := s.ImportCSV(context.Background(), strings.NewReader(b.String()), sekisho.Rules{Level: func(string) bool { return true }, CheckCard: func(string, uint64, uint64) error { return nil }})
	var bad ImportErrors
	if !errors.As(err, &bad) || len(bad.Rows) != MaxImportErrors || bad.Total < 5000 {
		t.Fatalf("%d rows named of %d, %v", len(bad.Rows), bad.Total, err != nil)
	}
}

// A desk searching for "%" or "_" finds those letters, not everything.
func TestVisitSearchTakesWildcardsAsLetters(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	host := &sekisho.Person{ID: "p-host", Name: "Host", Kind: "employee"}
	if err := s.CreatePerson(ctx, host); err != nil {
		t.Fatal(err)
	}
	for _, co := range []string{"ABC Kogyo", "A_C Kogyo", "100% Seiki"} {
		if err := s.CreateVisit(ctx, &sekisho.Visit{Name: "V " + co, Company: co, HostID: host.ID, Day: "2026-11-30", Status: sekisho.VisitRegistered}); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]int{"A_C": 1, "%": 1, "Kogyo": 2, "_": 1} {
		got, err := s.SearchVisits(ctx, sekisho.VisitQuery{Company: q})
		if err != nil || len(got) != want {
			t.Errorf("company %q: %d visits, want %d (%v)", q, len(got), want, err)
		}
	}
}
