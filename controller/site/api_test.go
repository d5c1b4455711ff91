package site_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBadRequestsGetReasons(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ctx := context.Background()
	guard, _, _ := ts.Store.CreateToken(ctx, "guard", nil, "", time.Time{})
	pressManager, _, _ := ts.Store.CreateToken(ctx, "manager", []string{"die-press"}, "", time.Time{})
	ts.addCardholder("Taken", []string{"staff"}, 7, 7)

	tests := []struct {
		name, method, path, body, token string
		status                          int
		code                            string
	}{
		{"person without name", "POST", "/api/people", `{"kind":"employee"}`, "", 400, "invalid_person"},
		{"person with unknown level", "POST", "/api/people", `{"name":"A","levels":["vault"]}`, "", 400, "invalid_person"},
		{"person of unknown kind", "POST", "/api/people", `{"name":"A","kind":"robot"}`, "", 400, "invalid_person"},
		{"unknown field", "POST", "/api/people", `{"name":"A","colour":"red"}`, "", 400, "bad_json"},
		{"not JSON", "POST", "/api/people", `name=A`, "", 400, "bad_json"},
		{"card for nobody", "POST", "/api/people/p-nobody/credentials", `{"facility":1,"number":2}`, "", 404, "no_such_person"},
		{"card in use", "POST", "/api/people/p-sato/credentials", `{"facility":7,"number":7}`, "", 409, "card_in_use"},
		{"card out of range", "POST", "/api/people/p-sato/credentials", `{"facility":300,"number":2}`, "", 400, "invalid_card"},
		{"card with bad date", "POST", "/api/people/p-sato/credentials", `{"facility":1,"number":3,"valid_until":"tomorrow"}`, "", 400, "invalid_card"},
		{"guard managing people", "POST", "/api/people", `{"name":"A"}`, guard, 403, "forbidden"},
		{"guard reading the log", "GET", "/api/events", ``, guard, 403, "forbidden"},
		{"manager outside their zone", "GET", "/api/events?zone=dev-room", ``, pressManager, 403, "zone_not_yours"},
		{"bad limit", "GET", "/api/events?limit=lots", ``, "", 400, "bad_parameter"},
		{"bad since", "GET", "/api/events?since=yesterday", ``, "", 400, "bad_parameter"},
		{"bad token", "GET", "/api/doors", ``, "sk_wrong", 401, "unauthenticated"},
		{"frame with letters", "POST", "/api/sim/readers/r-dev-out/wiegand", `{"bits":"01x1"}`, "", 400, "invalid_frame"},
		{"frame both ways", "POST", "/api/sim/readers/r-dev-out/wiegand", `{"bits":"0101","format":"H10301"}`, "", 400, "invalid_frame"},
		{"frame of nothing", "POST", "/api/sim/readers/r-dev-out/wiegand", `{}`, "", 400, "invalid_frame"},
		{"unknown format", "POST", "/api/sim/readers/r-dev-out/wiegand", `{"format":"H99999","facility":1,"number":1}`, "", 400, "invalid_frame"},
		{"unknown reader", "POST", "/api/sim/readers/r-attic/wiegand", `{"bits":"0101"}`, "", 404, "no_such_reader"},
		{"contact without state", "POST", "/api/sim/doors/dev-door/contact", `{}`, "", 400, "invalid_contact"},
		{"unknown door", "POST", "/api/sim/doors/vault/rex", ``, "", 404, "no_such_door"},
		{"unknown endpoint", "GET", "/api/nothing", ``, "", 404, "no_such_endpoint"},
		{"huge body", "POST", "/api/people", `{"name":"` + strings.Repeat("a", 70000) + `"}`, "", 413, "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, detail := ts.refusal(t, tt.method, tt.path, tt.body, tt.token)
			if status != tt.status || code != tt.code || detail == "" {
				t.Fatalf("got %d %q (%s), want %d %q with a reason", status, code, detail, tt.status, tt.code)
			}
		})
	}
	// Nothing half-written: the rejected people are not there.
	people, _ := ts.Store.People(ctx)
	for _, p := range people {
		if p.Name == "A" {
			t.Fatalf("a rejected person was stored: %+v", p)
		}
	}
}

func TestManagerSeesOnlyTheirZones(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	ts.addCardholder("Dev", []string{"developers"}, 5, 5)
	ts.addCardholder("Op", []string{"press-operators"}, 5, 6)
	live := ts.stream()
	ts.swipe("r-dev-out", 5, 5)
	ts.swipe("r-press-out", 5, 6)
	await(t, live, "press grant", func(ev eventT) bool { return ev.Door == "press-door" && ev.Type == "access.granted" })
	token, _, _ := ts.Store.CreateToken(context.Background(), "manager", []string{"die-press"}, "", time.Time{})
	req, _ := http.NewRequest("GET", ts.base+"/api/events?type=access.granted", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var evs []eventT
	json.NewDecoder(res.Body).Decode(&evs)
	if len(evs) != 1 || evs[0].Door != "press-door" {
		t.Fatalf("press manager sees %+v", evs)
	}
}
