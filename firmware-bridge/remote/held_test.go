package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/board"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// cardsDaemon is a door Pi's cards handling alone: no broker, no pins.
type cardsDaemon struct {
	*Daemon
	signer *Signer
}

func newCardsDaemon(t *testing.T) *cardsDaemon {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	e, err := NewEnrolment("door-pi-1", "s", "sekisho/s", pub)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := OpenOutbox(context.Background(), filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Daemon{ID: "door-pi-1", Enrolment: e, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		verifier: &Verifier{Key: pub, Bridge: "door-pi-1"}, refused: map[string]*Refused{}, outbox: ob,
		keepWake: make(chan struct{}, 1), snapshotArrive: make(chan struct{}, 1), changed: make(chan struct{}, 1),
		connectedAgain: make(chan struct{}, 1), ctx: ctx}
	t.Cleanup(func() {
		cancel()
		d.stopOwned()
		ob.Close()
	})
	return &cardsDaemon{Daemon: d, signer: &Signer{Key: key, Bridge: "door-pi-1"}}
}

func (c *cardsDaemon) sign(t *testing.T, body *CardsBody) []byte {
	t.Helper()
	sealed, err := SealCards(body, c.Enrolment.BoxPublic)
	if err != nil {
		t.Fatal(err)
	}
	return c.signer.SignCards(sealed, time.Now())
}

func testCard(n uint64, enabled bool) SnapshotCard {
	return SnapshotCard{CardKey: CardKey{Format: wiegand.FormatH10301, Facility: 1, Number: n}, Enabled: enabled,
		Person: bridge.Person{ID: "p", Kind: "employee"}, Readers: map[string]rules.Schedule{"r-out": nil}}
}

// chain is a snapshot of cards 1..3 and deltas disabling each in turn.
func chain() (*Snapshot, []*Delta) {
	s := &Snapshot{Timezone: "Asia/Tokyo", Doors: []SnapshotDoor{{ID: "d", OutsideReader: "r-out"}},
		Cards: []SnapshotCard{testCard(1, true), testCard(2, true), testCard(3, true)}}
	s.Version = SumOf(s).Version()
	var deltas []*Delta
	cur := *s
	cur.Cards = append([]SnapshotCard(nil), s.Cards...)
	for i := range cur.Cards {
		from := SumOf(&cur).Version()
		cur.Cards[i].Enabled = false
		deltas = append(deltas, &Delta{From: from, To: SumOf(&cur).Version(), Put: []SnapshotCard{cur.Cards[i]}})
	}
	return s, deltas
}

func (c *cardsDaemon) decide(n uint64) string {
	return c.Decide("r-out", wiegand.Card{Format: wiegand.FormatH10301, Facility: 1, Number: n}, time.Now()).Type
}

// Deltas arriving out of order are applied in the order they chain; a
// forged, replayed or mismatched one is refused and reported; a gap that
// never closes asks the controller.
func TestDoorPiAppliesDeltasInOrder(t *testing.T) {
	c := newCardsDaemon(t)
	snap, deltas := chain()
	waiting := map[string]waitingDelta{}
	msgSnap := c.sign(t, &CardsBody{Snapshot: snap})
	m1, m2, m3 := c.sign(t, &CardsBody{Delta: deltas[0]}), c.sign(t, &CardsBody{Delta: deltas[1]}), c.sign(t, &CardsBody{Delta: deltas[2]})

	// The second delta before anything: the Pi has no cards, and asks.
	c.takeCards(m2, waiting)
	if c.current() != nil || c.want != "snapshot" {
		t.Fatalf("a delta with no cards held: %v, want %q", c.current(), c.want)
	}
	c.takeCards(msgSnap, waiting)
	if c.Held() != snap.Version || c.decide(1) != granted {
		t.Fatalf("snapshot not taken: %s", c.Held())
	}
	// Third, then first: the third waits for the second; the first is
	// applied; the second (sent again as it was, as the controller does) closes it.
	c.takeCards(m3, waiting)
	if c.Held() != snap.Version || len(waiting) != 1 {
		t.Fatalf("a delta ahead of its turn was applied: %s, %d waiting", c.Held(), len(waiting))
	}
	c.takeCards(m1, waiting)
	if c.Held() != deltas[0].To || c.decide(1) != denied {
		t.Fatalf("the first delta: %s", c.Held())
	}
	c.takeCards(m2, waiting)
	if c.Held() != deltas[2].To || len(waiting) != 0 || c.decide(2) != denied || c.decide(3) != denied {
		t.Fatalf("the chain did not close: %s, %d waiting", c.Held(), len(waiting))
	}

	before := c.current()
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	forger := &Signer{Key: other, Bridge: "door-pi-1"}
	sealed, _ := SealCards(&CardsBody{Snapshot: snap}, c.Enrolment.BoxPublic)
	bad := Delta{From: deltas[2].To, To: deltas[2].To, Put: []SnapshotCard{testCard(3, true)}} // says To, makes something else
	for _, a := range []struct {
		name, reason string
		raw          []byte
	}{
		{"a snapshot signed by another key", "bad_signature", forger.SignCards(sealed, time.Now())},
		{"unsigned", "unsigned", []byte(`{"snapshot":{"version":"x"}}`)},
		{"signed for another door Pi", "bad_signature", (&Signer{Key: c.signer.Key, Bridge: "door-pi-2"}).SignCards(sealed, time.Now())},
		{"a delta whose result is not what it names", "mismatch", c.sign(t, &CardsBody{Delta: &bad})},
	} {
		c.takeCards(a.raw, waiting)
		if c.current() != before || len(waiting) != 0 {
			t.Errorf("%s: the cards changed", a.name)
		}
		c.mu.Lock()
		_, reported := c.refused[KindCards+"/"+a.reason]
		c.mu.Unlock()
		if !reported {
			t.Errorf("%s: not reported as %s", a.name, a.reason)
		}
	}
	if c.decide(1) != denied || c.decide(3) != denied {
		t.Fatal("a refused message let a card in")
	}
	// An old message of the controller's again — its own resend, or a
	// replay: nothing changes, and the Pi says again what it holds.
	for _, old := range [][]byte{msgSnap, m1} {
		<-drained(c.connectedAgain)
		c.takeCards(old, waiting)
		if c.current() != before || c.decide(1) != denied {
			t.Fatal("an old message changed the cards")
		}
		select {
		case <-c.connectedAgain:
		default:
			t.Fatal("the Pi did not say again what it holds")
		}
	}
}

// Kept cards are checked like arriving ones: a card row or header the Pi
// did not write, a row removed or one left from older cards, and the kept
// cards are refused; a change rewrites only the rows that changed; kept
// cards that no longer fit are set aside.
func TestKeptCardsAreThePisOwn(t *testing.T) {
	c := newCardsDaemon(t)
	snap, deltas := chain()
	cards, err := FromSnapshot(snap, 5)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.writeCards(ctx, cards, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.readKept(ctx)
	if err != nil || got.Version() != snap.Version || got.Seq != 5 {
		t.Fatalf("kept cards: %v %v", got, err)
	}
	next, err := cards.Apply(deltas[0], 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.writeCards(ctx, next, cards); err != nil {
		t.Fatal(err)
	}
	got, err = c.readKept(ctx)
	if err != nil || got.Version() != deltas[0].To || got.Seq != 6 {
		t.Fatalf("kept after a delta: %v %v", got, err)
	}
	db := c.outbox.db
	row := func(n uint64) string { return rowKey(CardKey{Format: wiegand.FormatH10301, Facility: 1, Number: n}) }
	for _, tamper := range []struct {
		name string
		do   []string // statements, undone after
		args [][]any
	}{
		{"a card switched back on", []string{`UPDATE kept_cards SET body = replace(body, '"enabled":false', '"enabled":true') WHERE key = ?`}, [][]any{{row(1)}}},
		{"a card row removed", []string{`DELETE FROM kept_cards WHERE key = ?`}, [][]any{{row(2)}}},
	} {
		tx, _ := db.Begin()
		for i, q := range tamper.do {
			if _, err := tx.Exec(q, tamper.args[i]...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.readKept(ctx); err == nil {
			t.Errorf("%s: the kept cards were believed", tamper.name)
		}
		if err := c.writeCards(ctx, next, nil); err != nil { // put them back whole
			t.Fatal(err)
		}
	}
	// A row with a good MAC of its own, from the cards before the revocation.
	whole, _ := FromSnapshot(snap, 5)
	enabledRow := whole.Index[CardKey{Format: wiegand.FormatH10301, Facility: 1, Number: 1}]
	b, _ := json.Marshal(enabledRow)
	if _, err := db.Exec(`UPDATE kept_cards SET body = ?, mac = ? WHERE key = ?`, string(b), mac(c.macKey(), b), row(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.readKept(ctx); err == nil {
		t.Error("a row from the cards before the revocation was believed")
	}

	if err := c.writeCards(ctx, next, nil); err != nil {
		t.Fatal(err)
	}
	c.setAside(ctx, errNoFit)
	if got, err := c.readKept(ctx); got != nil || err != nil {
		t.Fatalf("set aside, still kept: %v %v", got, err)
	}
	if aside, _ := c.outbox.Kept(ctx, "cards.set_aside"); aside == "" {
		t.Fatal("the set-aside cards were not kept for the installer")
	}
}

var errNoFit = errorString("reader r-out is not on this board")

type errorString string

func (e errorString) Error() string { return string(e) }

// A door Pi whose kept cards name a door its board does not have (the
// cards were kept for another board) sets them aside, says so, and waits
// for the controller's instead of exiting.
func TestKeptCardsThatDoNotFitAreSetAside(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	e, err := NewEnrolment("door-pi-1", "s", "sekisho/s", pub)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	ob, err := OpenOutbox(ctx, filepath.Join(dir, "bridge-door-pi-1.db"))
	if err != nil {
		t.Fatal(err)
	}
	snap := &Snapshot{Timezone: "Asia/Tokyo", Doors: []SnapshotDoor{{ID: "d", Slot: "door-9", OutsideReader: "r-out"}},
		Cards: []SnapshotCard{testCard(1, true)}}
	snap.Version = SumOf(snap).Version()
	cards, _ := FromSnapshot(snap, 1)
	writer := &Daemon{Enrolment: e, outbox: ob}
	if err := writer.writeCards(ctx, cards, nil); err != nil {
		t.Fatal(err)
	}
	ob.Close()

	f, err := board.Load("../../hardware/pi-reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ID: "door-pi-1", Prefix: "sekisho/s", Broker: Broker{URL: "tcp://127.0.0.1:1"}, Enrolment: e,
		Board: f, Open: board.NewSimPins(f).Open, DataDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	reader, err := OpenOutbox(ctx, filepath.Join(dir, "bridge-door-pi-1.db")) // the installer's look at it
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for d.Held() != "" || !reportedNoFit(reader) {
		select {
		case <-deadline:
			cancel()
			t.Fatal("the kept cards were not set aside and reported")
		case <-tick.C: // the daemon's state, from its own goroutines, polled
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the door Pi stopped with %v (it should wait for the controller's cards)", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the door Pi did not stop")
	}
}

func reportedNoFit(ob *Outbox) bool {
	envs, err := ob.Pending(context.Background(), 10)
	if err != nil {
		return false
	}
	aside, _ := ob.Kept(context.Background(), "cards.set_aside")
	for _, env := range envs {
		if r := env.Refused; r != nil && r.Kind == "kept_cards" && r.Reason == "no_fit" && aside != "" {
			return true
		}
	}
	return false
}

// drained empties a signal channel and returns a closed one to wait on.
func drained(ch chan struct{}) <-chan struct{} {
	select {
	case <-ch:
	default:
	}
	done := make(chan struct{})
	close(done)
	return done
}
