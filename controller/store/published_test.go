package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
)

// What the outbox publishes is the event exactly as json.Marshal writes it.
func TestPublishedIsTheEventsJSON(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	evs := []*event.Event{
		{Type: event.AccessGranted, Door: "press-door", ZoneFrom: "floor", ZoneTo: "die-press",
			Person: &event.Person{ID: "p-1", Name: "佐藤 \"ケン\" <健二>", Kind: "employee", Company: "A&B"}},
		{Type: event.DoorForced, Door: "dev-door", Alarm: &event.Alarm{ID: "al-1", Severity: "high"},
			Detail: map[string]string{"alarm": "{not json}", "note": "line\nbreak \u2028"}},
		{Type: event.AccessDenied, Reader: "r-main-out", Reason: event.ReasonBadFrame,
			Credential: &event.Credential{Format: "raw", Hex: "0f"}},
	}
	for _, ev := range evs {
		if err := s.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PublishedAfter(ctx, 0, 10)
	if err != nil || len(got) != len(evs) {
		t.Fatalf("PublishedAfter: %d %v", len(got), err)
	}
	for i, ev := range evs {
		want, _ := json.Marshal(ev)
		if string(got[i].JSON) != string(want) {
			t.Errorf("seq %d:\n got %s\nwant %s", ev.Seq, got[i].JSON, want)
		}
		if got[i].Seq != ev.Seq || got[i].Type != ev.Type || got[i].Door != ev.Door || got[i].ZoneTo != ev.ZoneTo || got[i].ZoneFrom != ev.ZoneFrom || got[i].Alarm != (ev.Alarm != nil) {
			t.Errorf("seq %d: %+v", ev.Seq, got[i])
		}
	}
	if rest, _ := s.PublishedAfter(ctx, got[1].Seq, 10); len(rest) != 1 || rest[0].Seq != got[2].Seq {
		t.Fatalf("after seq %d: %+v", got[1].Seq, rest)
	}
}
