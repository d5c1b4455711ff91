package site_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

// An admin edits, switches off, switches on and deletes people and cards
// over the API: each change reaches the doors at the next swipe, is checked
// as an import row would be, and is in the chain under the admin's name; a
// deleted person stays named in the log and cannot be imported back by an
// old file.
func TestAdminChangesWhoMayPass(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	id := ts.addCardholder("Kato Ken", []string{"press-operators"}, 12, 801)
	var cards []sekisho.Credential
	ts.call("GET", "/api/people/"+id+"/credentials", nil, &cards)
	if len(cards) != 1 {
		t.Fatalf("cards: %+v", cards)
	}
	card := "/api/people/" + id + "/credentials/" + strconv.FormatInt(cards[0].ID, 10)
	decision := func(reader string) event.Event {
		t.Helper()
		ts.swipe(reader, 12, 801)
		return await(t, live, "a decision at "+reader, func(ev event.Event) bool {
			return ev.Reader == reader && (ev.Type == event.AccessGranted || ev.Type == event.AccessDenied)
		})
	}
	expect := func(reader, typ, reason string) {
		t.Helper()
		if ev := decision(reader); ev.Type != typ || ev.Reason != reason {
			t.Fatalf("at %s: %s %s, want %s %s", reader, ev.Type, ev.Reason, typ, reason)
		}
	}
	logged := func(typ string) event.Event {
		t.Helper()
		ev := await(t, live, typ, isType(typ, nil))
		if ev.Actor == "" || ev.Person == nil || ev.Person.ID != id {
			t.Fatalf("%s without who did it or to whom: %+v", typ, ev)
		}
		return ev
	}
	ok := func(method, path string, body any) {
		t.Helper()
		if code := ts.call(method, path, body, nil); code != http.StatusOK {
			t.Fatalf("%s %s: %d", method, path, code)
		}
	}
	expect("r-press-out", event.AccessGranted, "")

	// Edited: no longer a press operator.
	ok("PATCH", "/api/people/"+id, map[string]any{"name": "Kato Kenji", "levels": []string{"staff"}})
	if ev := logged(event.PersonChanged); ev.Detail["levels"] != "press-operators → staff" || ev.Detail["name"] != "Kato Ken → Kato Kenji" {
		t.Fatalf("person.changed: %v", ev.Detail)
	}
	expect("r-press-out", event.AccessDenied, event.ReasonNotAuthorized)
	expect("r-floor-out", event.AccessGranted, "")

	// The card switched off, and on again with a last day long gone.
	ok("PATCH", card, map[string]any{"enabled": false})
	logged(event.CredentialDisabled)
	expect("r-floor-out", event.AccessDenied, event.ReasonDisabled)
	ok("PATCH", card, map[string]any{"enabled": true, "valid_until": "2020-03-31"})
	if ev := logged(event.CredentialEnabled); ev.Detail["valid_until"] != " → 2020-03-31T15:00:00Z" || ev.Credential == nil || ev.Credential.Number != 801 {
		t.Fatalf("credential.enabled: %+v %v", ev.Credential, ev.Detail)
	}
	expect("r-floor-out", event.AccessDenied, event.ReasonExpired)
	ok("PATCH", card, map[string]any{"valid_until": "", "pin": "4321"})
	if ev := logged(event.CredentialChanged); ev.Detail["pin"] != "set" || strings.Contains(strings.Join(slices.Collect(maps.Values(ev.Detail)), " "), "4321") {
		t.Fatalf("credential.changed: %v", ev.Detail)
	}
	expect("r-floor-out", event.AccessGranted, "")

	// The person switched off: every card refused; on again: let in.
	ok("POST", "/api/people/"+id+"/disable", nil)
	logged(event.PersonDisabled)
	expect("r-floor-out", event.AccessDenied, event.ReasonDisabled)
	ok("POST", "/api/people/"+id+"/enable", nil)
	logged(event.PersonEnabled)
	expect("r-floor-out", event.AccessGranted, "")

	// The import's checks, with a reason for each.
	for _, tc := range []struct{ method, path, body, word, says string }{
		{"PATCH", "/api/people/" + id, `{"levels":["cleaners","nope"]}`, "invalid_person", `no access level "nope"`},
		{"PATCH", "/api/people/" + id, `{"name":" "}`, "invalid_person", "name is empty"},
		{"PATCH", "/api/people/" + id, `{"kind":"robot"}`, "invalid_person", "kind"},
		{"PATCH", card, `{"pin":"12"}`, "invalid_card", "4 to 12 digits"},
		{"PATCH", card, `{"valid_until":"tomorrow"}`, "invalid_card", "valid_until"},
		{"PATCH", card, `{"valid_from":"2027-01-02","valid_until":"2027-01-01"}`, "invalid_card", "not after valid_from"},
		{"PATCH", card, `{"number":5}`, "bad_json", "unknown field"},
		{"POST", "/api/people/" + id + "/credentials", `{"facility":12,"number":99999999}`, "invalid_card", ""},
		{"PATCH", "/api/people/" + id + "/credentials/x", `{}`, "bad_card_id", ""},
		{"PATCH", "/api/people/" + id + "/credentials/999999", `{}`, "no_such_card", ""},
		{"POST", "/api/people/p-nobody/disable", ``, "no_such_person", ""},
	} {
		code, word, detail := ts.refusal(t, tc.method, tc.path, tc.body, "")
		if code < 400 || code >= 500 || word != tc.word || !strings.Contains(detail, tc.says) {
			t.Errorf("%s %s %s: %d %s %q", tc.method, tc.path, tc.body, code, word, detail)
		}
	}

	// The card deleted: unknown at the door, and free for someone else.
	ok("DELETE", card, nil)
	logged(event.CredentialDeleted)
	expect("r-floor-out", event.AccessDenied, event.ReasonUnknownCredential)
	other := ts.addCardholder("Mori Aki", []string{"staff"}, 12, 801)
	if ev := decision("r-floor-out"); ev.Type != event.AccessGranted || ev.Person.ID != other {
		t.Fatalf("the card given to someone else: %s %+v", ev.Type, ev.Person)
	}

	// The person deleted: gone from the list, still named in the log.
	ts.call("POST", "/api/people/"+id+"/credentials", map[string]any{"facility": 12, "number": 802}, nil)
	ok("DELETE", "/api/people/"+id, nil)
	if ev := logged(event.PersonDeleted); ev.Person.Name != "Kato Kenji" || ev.Detail["cards"] != "12:802" {
		t.Fatalf("person.deleted: %+v %v", ev.Person, ev.Detail)
	}
	var people []sekisho.Person
	ts.call("GET", "/api/people", nil, &people)
	for _, p := range people {
		if p.ID == id {
			t.Fatal("a deleted person is still listed")
		}
	}
	if code, word, _ := ts.refusal(t, "PATCH", "/api/people/"+id, `{"name":"Back"}`, ""); code != http.StatusGone || word != "deleted" {
		t.Fatalf("editing a deleted person: %d %s", code, word)
	}
	evs, err := ts.Store.Events(context.Background(), store.Filter{Person: id, Type: "access."})
	if err != nil || len(evs) < 8 || evs[0].Person.Name != "Kato Kenji" {
		t.Fatalf("the log of a deleted person: %d events, %v", len(evs), err)
	}
	// An old file does not bring them back.
	req, _ := http.NewRequest("POST", ts.base+"/api/people/import",
		strings.NewReader("id,name,kind,levels,facility,number\n"+id+",Kato Kenji,employee,staff,12,802\n"))
	req.Header.Set("Authorization", "Bearer "+ts.token)
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("importing a deleted person back: %d", res.StatusCode)
	}
	if v, err := ts.Store.Verify(context.Background()); err != nil || !v.OK {
		t.Fatalf("verify after the changes: %+v %v", v, err)
	}
}

// In the browser: the admin opens a card holder, renames them, gives the
// card a last day and switches it off; the next swipe of that card is
// refused, and the log names the admin. Then the admin deletes the holder
// with the two-step button.
func TestAdminPageSwitchesACardOff(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	id := ts.addCardholder("Kato Ken", []string{"press-operators"}, 12, 801)
	if err := ts.Store.CreateUser(context.Background(), "kanri", "admin", nil, "admin-pass-2026"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(browser(t), 60*time.Second)
	defer cancel()
	defer shoot(t, ctx)
	ts.logIn(ctx, t, "kanri", "admin-pass-2026")

	row := `#people tbody tr[data-person="` + id + `"]`
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`header a[data-nav="/people"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+` span.card`)),
		chromedp.Click(chromedp.CSS(row+` button.edit`)),
		chromedp.WaitVisible(chromedp.ID("p-edit")),
		chromedp.SetValue(chromedp.ID("e-name"), "Kato Kenji"),
		chromedp.Click(chromedp.CSS(`#e-cards .c-enabled`)),
		chromedp.SetValue(chromedp.CSS(`#e-cards .c-until`), "2030-12-31"),
		chromedp.Click(chromedp.ID("e-save")),
		chromedp.WaitNotVisible(chromedp.ID("p-edit")),
		chromedp.WaitVisible(chromedp.CSS(row+` span.card.off`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if ev := await(t, live, "the rename", isType(event.PersonChanged, nil)); ev.Actor != "kanri" || ev.Detail["name"] != "Kato Ken → Kato Kenji" {
		t.Fatalf("person.changed: %s %v", ev.Actor, ev.Detail)
	}
	ev := await(t, live, "the card switched off", isType(event.CredentialDisabled, nil))
	if ev.Actor != "kanri" || ev.Detail["valid_until"] != " → 2030-12-31T15:00:00Z" || ev.Credential.Number != 801 {
		t.Fatalf("credential.disabled: %s %v", ev.Actor, ev.Detail)
	}
	ts.swipe("r-floor-out", 12, 801)
	if ev := await(t, live, "the next swipe", isType(event.AccessDenied, nil)); ev.Reason != event.ReasonDisabled || ev.Person.Name != "Kato Kenji" {
		t.Fatalf("the switched-off card: %s %+v", ev.Reason, ev.Person)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` button.delete`)),
		chromedp.WaitVisible(chromedp.CSS(row+` button.delete.sure`)),
		chromedp.Click(chromedp.CSS(row+` button.delete.sure`)),
		chromedp.WaitNotPresent(chromedp.CSS(row)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if ev := await(t, live, "the deletion", isType(event.PersonDeleted, nil)); ev.Actor != "kanri" || ev.Person.Name != "Kato Kenji" {
		t.Fatalf("person.deleted: %s %+v", ev.Actor, ev.Person)
	}
}
