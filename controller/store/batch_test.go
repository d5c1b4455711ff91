package store

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// A group of events goes in as one, chained in order, each with its leaf
// in the tree; a replay in the middle is refused alone.
func TestAppendAllChainsAndKeepsTheTree(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	appendN(t, s, 3)
	replay := &event.Event{Type: event.DoorOpened, Door: "press-door"}
	if err := s.Append(ctx, replay); err != nil {
		t.Fatal(err)
	}
	again := *replay
	again.Seq, again.PrevHash, again.Hash = 0, "", ""
	evs := []*event.Event{{Type: event.DoorOpened, Door: "a"}, &again, {Type: event.DoorClosed, Door: "b"}}
	errs := s.AppendAll(ctx, evs)
	if errs[0] != nil || !errors.Is(errs[1], sekisho.ErrDuplicate) || errs[2] != nil {
		t.Fatalf("errs %v", errs)
	}
	if evs[0].Seq != 5 || evs[2].Seq != 6 || evs[2].PrevHash != evs[0].Hash || s.Head() != 6 {
		t.Fatalf("seqs %d %d, head %d", evs[0].Seq, evs[2].Seq, s.Head())
	}
	size, err := s.TreeSize(ctx)
	if err != nil || size != 6 || s.TreeLag() != 0 {
		t.Fatalf("tree %d (lag %d): %v", size, s.TreeLag(), err)
	}
	// The tree's leaves are the events' bodies, in order.
	bodies, _ := s.Bodies(ctx, 0, 10)
	var mem []tlog.Hash
	r := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = mem[id]
		}
		return out, nil
	})
	for i, b := range bodies {
		hs, _ := tlog.StoredHashes(int64(i), b, r)
		mem = append(mem, hs...)
	}
	want, _ := tlog.TreeHash(6, r)
	got, err := tlog.TreeHash(6, tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) { return s.TreeHashes(ctx, ids) }))
	if err != nil || got != want {
		t.Fatalf("kept root %x, from the bodies %x (%v)", got, want, err)
	}
	res, err := s.Verify(ctx)
	if err != nil || !res.OK {
		t.Fatalf("verify: %+v %v", res, err)
	}
}
