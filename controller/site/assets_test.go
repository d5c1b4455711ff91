package site_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
)

// An admin moves a customer's die: the move is in the log with who, the
// register says where it is now, and only an admin may move one.
func TestAdminMovesAnAsset(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	var moved struct{ Zone string }
	if code := ts.call("POST", "/api/assets/die-b-220/move", map[string]any{"zone": "floor"}, &moved); code != http.StatusOK || moved.Zone != "floor" {
		t.Fatalf("move: %d %+v", code, moved)
	}
	ev := await(t, live, "the move", isType(event.AssetMoved, func(ev event.Event) bool { return ev.Detail["asset"] == "die-b-220" }))
	if ev.ZoneFrom != "die-press" || ev.ZoneTo != "floor" || ev.Actor == "" || ev.Detail["source"] != "admin" {
		t.Fatalf("logged move: %+v", ev)
	}
	var list []struct {
		ID, Zone string
		History  []struct{ From, To, By string }
	}
	if code := ts.call("GET", "/api/assets", nil, &list); code != http.StatusOK || len(list) != 2 {
		t.Fatalf("assets: %d %+v", code, list)
	}
	for _, a := range list {
		if a.ID == "die-b-220" && (a.Zone != "floor" || len(a.History) != 2 || a.History[1].To != "floor") {
			t.Fatalf("after the move: %+v", a)
		}
	}
	for _, c := range []struct {
		path, body string
		code       int
		word       string
	}{
		{"/api/assets/die-b-220/move", `{"zone":"nowhere"}`, http.StatusNotFound, "not_found"},
		{"/api/assets/die-zzz/move", `{"zone":"floor"}`, http.StatusNotFound, "not_found"},
		{"/api/assets/die-b-220/move", `{"zone":"floor"}`, http.StatusConflict, "conflict"},
		{"/api/assets", `{"id":"","owner":"X","zone":"floor"}`, http.StatusBadRequest, "bad_asset"},
		{"/api/assets", `{"id":"die-a-100","owner":"X","zone":"floor"}`, http.StatusConflict, "in_use"},
	} {
		if code, word, _ := ts.refusal(t, "POST", c.path, c.body, ""); code != c.code || word != c.word {
			t.Errorf("%s %s: %d %s, want %d %s", c.path, c.body, code, word, c.code, c.word)
		}
	}
	manager, _, _ := ts.Store.CreateToken(context.Background(), "manager", nil, "", time.Time{})
	if code, _, _ := ts.refusal(t, "POST", "/api/assets/die-a-100/move", `{"zone":"floor"}`, manager); code != http.StatusForbidden {
		t.Errorf("a manager moved a die: %d", code)
	}
}
