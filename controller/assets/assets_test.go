package assets_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/assets"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
)

type quiet struct{}

func (quiet) Logged(*event.Event)           {}
func (quiet) NotLogged(*event.Event, error) {}
func (quiet) Failing(string, error)         {}
func (quiet) Resumed(time.Duration)         {}

type site struct {
	t    *testing.T
	path string
	cfg  *config.Config
	st   *store.Store
	j    *journal.Journal
	reg  *assets.Register
}

// start opens the site's log and loads the register, as a start of the
// controller does; stop closes it.
func (s *site) start() {
	s.t.Helper()
	st, err := store.Open(s.t.Context(), s.path, s.cfg.Site)
	if err != nil {
		s.t.Fatal(err)
	}
	j := journal.New(st, journal.Faults{Transient: store.Transient, Reason: store.Reason}, quiet{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	j.Start()
	s.st, s.j = st, j
	if s.reg, err = assets.Load(s.t.Context(), s.cfg, st, j); err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) stop() { s.j.Close(time.Second); s.st.Close() }

func (s *site) where(id string) string {
	a, ok := s.reg.Asset(id)
	if !ok {
		s.t.Fatalf("%s is not registered", id)
	}
	return a.Zone
}

func (s *site) steps() []assets.Step {
	steps, err := assets.Steps(s.t.Context(), s.st)
	if err != nil {
		s.t.Fatal(err)
	}
	return steps
}

func TestTheRegisterKeepsHistoryAndFollowsTheConfig(t *testing.T) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, path: filepath.Join(t.TempDir(), "a.db"), cfg: cfg}
	s.start()
	testtool.WaitFor(t, 30*time.Second, "the config's assets in the log", func() bool { return len(s.steps()) == 2 })
	if got := s.steps(); len(got) != 2 || got[0].Asset != "die-a-100" || got[0].To != "die-press" || got[0].Source != assets.SourceConfig || got[0].Owner != "Toyo Auto" {
		t.Fatalf("first start: %+v", got)
	}
	// An admin moves a die to the floor: logged with who, and the cover
	// check sees it there at once.
	if _, err := s.reg.Move(t.Context(), "die-a-100", "floor", "admin:sato"); err != nil {
		t.Fatal(err)
	}
	if s.where("die-a-100") != "floor" {
		t.Fatal("not moved")
	}
	for _, bad := range []struct{ id, zone string }{{"die-a-100", "nowhere"}, {"die-x", "floor"}} {
		if _, err := s.reg.Move(t.Context(), bad.id, bad.zone, "admin:sato"); !errors.Is(err, sekisho.ErrNotFound) {
			t.Errorf("move %v: %v", bad, err)
		}
	}
	if _, err := s.reg.Move(t.Context(), "die-a-100", "floor", "admin:sato"); !errors.Is(err, sekisho.ErrConflict) {
		t.Errorf("a move to where it is: %v", err)
	}
	if err := s.reg.Add(t.Context(), config.Asset{ID: "drw-7", Owner: "Hamana Gear", Zone: "dev-room", Description: "gear drawing"}, "admin:sato"); err != nil {
		t.Fatal(err)
	}
	if err := s.reg.Add(t.Context(), config.Asset{ID: "drw-7", Owner: "Hamana Gear", Zone: "dev-room"}, "admin:sato"); !errors.Is(err, sekisho.ErrDuplicate) {
		t.Errorf("a second drw-7: %v", err)
	}
	if err := s.reg.Add(t.Context(), config.Asset{ID: "x", Zone: "dev-room"}, "admin:sato"); !errors.Is(err, sekisho.ErrRefused) {
		t.Errorf("no owner: %v", err)
	}

	// A restart with the same config keeps the admin's move.
	s.stop()
	s.start()
	if s.where("die-a-100") != "floor" || s.where("drw-7") != "dev-room" || len(s.steps()) != 4 {
		t.Fatalf("after a restart: %s, %+v", s.where("die-a-100"), s.steps())
	}
	// The config moves the other die: a move, logged as the config's.
	s.stop()
	cfg.Assets[1].Zone = "floor"
	s.start()
	testtool.WaitFor(t, 30*time.Second, "the config's move in the log", func() bool { return len(s.steps()) == 5 })
	steps := s.steps()
	last := steps[len(steps)-1]
	if s.where("die-b-220") != "floor" || last.Asset != "die-b-220" || last.From != "die-press" || last.To != "floor" || last.Source != assets.SourceConfig || last.By != "config" {
		t.Fatalf("config's move: %+v", last)
	}
	// The config names die-a-100 in die-press still, as it did: the admin's
	// move stands.
	if s.where("die-a-100") != "floor" {
		t.Fatal("the admin's move was undone by an unchanged config")
	}
	s.stop()
}

// stuck is a journal whose disk never takes a write: Logged waits for ever.
type stuck struct{ recorded []*event.Event }

func (j *stuck) Logged(ctx context.Context, ev *event.Event) error { <-ctx.Done(); return ctx.Err() }
func (j *stuck) Record(ev *event.Event) <-chan error {
	j.recorded = append(j.recorded, ev)
	return make(chan error, 1)
}

// A site starting on a full card: the register comes up from the config
// at once, its registrations queued for the log, and no start waits on
// the disk.
func TestTheRegisterLoadsWhileTheLogCannotBeWritten(t *testing.T) {
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j := &stuck{}
	reg, err := assets.Load(t.Context(), cfg, st, j)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := reg.Asset("die-a-100"); !ok || a.Zone != "die-press" || len(j.recorded) != 2 || j.recorded[0].Type != event.AssetRegistered {
		t.Fatalf("register %+v, queued %d", a, len(j.recorded))
	}
}
