package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/testtool"
)

// chainOf makes n events of site after prev, as the site's log would.
func chainOf(t testing.TB, site string, from int64, prev string, n int, who string) []ledger.Incoming {
	t.Helper()
	var out []ledger.Incoming
	for i := range n {
		ev := event.Event{ID: fmt.Sprintf("%s-%s-%d", site, who, from+int64(i)), Seq: from + int64(i), Site: site, Type: event.AccessGranted,
			Time: time.Date(2026, 12, 1, 9, 0, i, 0, time.UTC), Door: "press-door",
			Person: &event.Person{ID: "p-" + who, Name: who, Kind: "employee", Company: "Hamamatsu Press"}}
		body, err := ev.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		h := event.ChainHash(prev, body)
		out = append(out, ledger.Incoming{Seq: ev.Seq, Hash: h, PrevHash: prev, Body: body, Event: ev})
		prev = h
	}
	return out
}

func open(t testing.TB) (*ledger.Ledger, string) {
	t.Helper()
	dsn := testtool.StartPostgres(t).NewDatabase(t)
	l, err := ledger.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l, dsn
}

// Events out of order wait for their gap; twice is once; a forged event
// that hashes and links is held only until the site's signed checkpoint
// says which is the site's, then refused.
func TestOfferChecksTheChainAndACheckpointDecides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _ := open(t)
	real := chainOf(t, "a", 1, event.GenesisHash, 10, "sato")
	if o, err := l.Offer(ctx, "a", append(real[5:], real[5:]...)); err != nil || o.Head != 0 || o.Added != 0 {
		t.Fatalf("after a gap: %+v %v", o, err)
	}
	if o, err := l.Offer(ctx, "a", real[:3]); err != nil || o.Head != 3 {
		t.Fatalf("the start: %+v %v", o, err)
	}
	// A forger who knows the head publishes seq 4 that links to it.
	forged := chainOf(t, "a", 4, real[2].Hash, 1, "mallory")
	if o, err := l.Offer(ctx, "a", forged); err != nil || o.Head != 4 {
		t.Fatalf("forged: %+v %v", o, err)
	}
	// The site's own 4 and 5 arrive: 4 contests the forged one; the chain
	// cannot go on until the site's checkpoint says which is its own.
	if o, err := l.Offer(ctx, "a", real[3:5]); err != nil || o.Head != 4 {
		t.Fatalf("the site's own: %+v %v", o, err)
	}
	v, err := l.Confirm(ctx, "a", 10, real[9].Hash, time.Now(), []byte("{}"))
	if err != nil || v != ledger.Replaced {
		t.Fatalf("confirm: %v %v", v, err)
	}
	st, err := l.SiteStatus(ctx, "a")
	if err != nil || st.HeadSeq != 10 || st.VerifiedSeq != 10 {
		t.Fatalf("after the checkpoint: %+v %v", st, err)
	}
	var reason string
	if err := l.Pool().QueryRow(ctx, `SELECT reason FROM refused WHERE site = 'a' AND hash = $1`, forged[0].Hash).Scan(&reason); err != nil || reason != "contradicted_by_checkpoint" {
		t.Fatalf("the forged event: %q %v", reason, err)
	}
	var person string
	if err := l.Pool().QueryRow(ctx, `SELECT person FROM events WHERE site = 'a' AND seq = 4`).Scan(&person); err != nil || person != "sato" {
		t.Fatalf("seq 4 is %q %v", person, err)
	}
	// A rewritten history, signed: the site's log was cut and re-chained.
	rewritten := chainOf(t, "a", 1, event.GenesisHash, 10, "eve")
	if v, err := l.Confirm(ctx, "a", 10, rewritten[9].Hash, time.Now(), []byte("{}")); err != nil || v != ledger.Forked {
		t.Fatalf("a rewritten log: %v %v", v, err)
	}
	// An event that does not hash is refused outright.
	bad := chainOf(t, "a", 11, real[9].Hash, 1, "sato")
	bad[0].Body = append(bad[0].Body, ' ')
	if o, err := l.Offer(ctx, "a", bad); err != nil || o.Refused != 1 || o.Head != 10 {
		t.Fatalf("a bad hash: %+v %v", o, err)
	}
}

// The witness countersigns a tree the events held make, once, and never
// one they do not.
func TestWitnessHoldsTheRootToTheEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _ := open(t)
	evs := chainOf(t, "a", 1, event.GenesisHash, 37, "sato")
	if _, err := l.Offer(ctx, "a", evs); err != nil {
		t.Fatal(err)
	}
	root := func(n int) tlog.Hash { return rootOf(t, evs[:n]) }
	signs := 0
	sign := func() (string, error) { signs++; return "cosigned", nil }
	if v, note, err := l.Witness(ctx, "a", ledger.Cosigning{Size: 37, Root: root(37), Sign: sign}); err != nil || v != ledger.Confirmed || note != "cosigned" {
		t.Fatalf("witness: %v %q %v", v, note, err)
	}
	if v, note, err := l.Witness(ctx, "a", ledger.Cosigning{Size: 20, Root: root(20), Sign: sign}); err != nil || v != ledger.Confirmed || note != "" {
		t.Fatalf("an older size: %v %q %v", v, note, err)
	}
	if v, _, err := l.Witness(ctx, "a", ledger.Cosigning{Size: 37, Root: tlog.RecordHash([]byte("other")), Sign: sign}); err != nil || v != ledger.Forked {
		t.Fatalf("another root: %v %v", v, err)
	}
	if v, _, err := l.Witness(ctx, "a", ledger.Cosigning{Size: 38, Root: root(37), Sign: sign}); err != nil || v != ledger.Waiting {
		t.Fatalf("beyond the events: %v %v", v, err)
	}
	if signs != 1 {
		t.Fatalf("signed %d times", signs)
	}
}

// rootOf is the RFC 6962 root of the events' bytes, made apart from the ledger.
func rootOf(t testing.TB, evs []ledger.Incoming) tlog.Hash {
	t.Helper()
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = stored[id]
		}
		return out, nil
	})
	for i := range evs {
		hs, err := tlog.StoredHashes(int64(i), evs[i].Body, r)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	h, err := tlog.TreeHash(int64(len(evs)), r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Two head offices on one database add each event once and countersign
// each checkpoint once.
func TestTwoHeadOfficesOneDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l1, dsn := open(t)
	l2, err := ledger.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	evs := chainOf(t, "a", 1, event.GenesisHash, 400, "sato")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, l := range []*ledger.Ledger{l1, l2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(evs); i += 50 {
				if _, err := l.Offer(ctx, "a", evs[i:i+50]); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n, distinct int64
	if err := l1.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT seq) FROM events WHERE site = 'a'`).Scan(&n, &distinct); err != nil || n != 400 || distinct != 400 {
		t.Fatalf("%d events, %d seqs: %v", n, distinct, err)
	}
	// Both are handed the site's checkpoint at once: one countersigns.
	var mu sync.Mutex
	signs := 0
	cp := ledger.Cosigning{Size: 400, Root: rootOf(t, evs), Sign: func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		signs++
		return "cosigned", nil
	}}
	for _, l := range []*ledger.Ledger{l1, l2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := l.Witness(ctx, "a", cp); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if signs != 1 {
		t.Fatalf("countersigned %d times", signs)
	}
}

// A search finds a person by a name's beginning (any case) or their id,
// a company by its name's beginning, across plants; a search naming
// nobody is refused.
func TestSearchAcrossPlants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _ := open(t)
	for _, site := range []string{"a", "b"} {
		if _, err := l.Offer(ctx, site, chainOf(t, site, 1, event.GenesisHash, 5, "Sato_%")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Offer(ctx, "a", chainOf(t, "a", 6, mustHead(t, l, "a"), 3, "Suzuki")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    ledger.Query
		want int
	}{
		{ledger.Query{Person: "sato"}, 10},
		{ledger.Query{Person: "SATO_%"}, 10},
		{ledger.Query{Person: "sato_x"}, 0},
		{ledger.Query{Person: "ato"}, 0},
		{ledger.Query{Person: "p-Suzuki"}, 3},
		{ledger.Query{Person: "sato", Site: "b"}, 5},
		{ledger.Query{Company: "hamamatsu"}, 13},
		{ledger.Query{Person: "su", Since: time.Date(2026, 12, 1, 9, 0, 1, 0, time.UTC)}, 2},
	} {
		found, err := l.Search(ctx, tt.q)
		if err != nil || len(found) != tt.want {
			t.Errorf("%+v: %d found, want %d: %v", tt.q, len(found), tt.want, err)
		}
	}
	if _, err := l.Search(ctx, ledger.Query{Site: "a"}); !errors.Is(err, ledger.ErrBroadQuery) {
		t.Fatalf("a search naming nobody: %v", err)
	}
}

func mustHead(t *testing.T, l *ledger.Ledger, site string) string {
	t.Helper()
	var h string
	if err := l.Pool().QueryRow(context.Background(), `SELECT head_hash FROM sites WHERE id = $1`, site).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// A head-office session opens with the right password only, and ends when
// it is left unused for the idle time or logged out.
func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _ := open(t)
	if err := l.AddUser(ctx, "kansa", ledger.RoleAuditor, "pw-kansa"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Login(ctx, "kansa", "guess", time.Hour); !errors.Is(err, ledger.ErrBadLogin) {
		t.Fatalf("a wrong password: %v", err)
	}
	if _, _, err := l.Login(ctx, "nobody", "pw-kansa", time.Hour); !errors.Is(err, ledger.ErrBadLogin) {
		t.Fatalf("an unknown name: %v", err)
	}
	token, role, err := l.Login(ctx, "kansa", "pw-kansa", time.Hour)
	if err != nil || role != ledger.RoleAuditor {
		t.Fatalf("login: %q %v", role, err)
	}
	if name, _, err := l.Session(ctx, token); err != nil || name != "kansa" {
		t.Fatalf("session: %q %v", name, err)
	}
	if _, err := l.Pool().Exec(ctx, `UPDATE sessions SET last_seen = now() - interval '16 minutes'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Session(ctx, token); !errors.Is(err, ledger.ErrNoSession) {
		t.Fatalf("a session idle past its time: %v", err)
	}
	token, _, _ = l.Login(ctx, "kansa", "pw-kansa", time.Hour)
	if err := l.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Session(ctx, token); !errors.Is(err, ledger.ErrNoSession) {
		t.Fatalf("a session logged out: %v", err)
	}
}
