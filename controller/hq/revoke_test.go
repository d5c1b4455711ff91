package hq_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/testtool"
)

// One revocation for all: head office disables employee E-77 at both
// plants, one of them cut off while it is given; that plant applies it
// once its line is back, each plant logs it as head office's user did
// it, the card opens nothing, and head office shows who has not yet
// said so until they have.
func TestRevocationReachesEveryPlant(t *testing.T) {
	t.Parallel()
	hq := newOffice(t)
	a, b := hq.startPlant("plant-a"), hq.startPlant("plant-b")
	ids := map[string]string{}
	for _, p := range []*plant{a, b} {
		var person sekisho.Person
		if code := p.call(http.MethodPost, "/api/people", map[string]any{"name": "伊藤 誠", "employee_number": "E-77", "levels": []string{"staff"}}, &person); code != http.StatusCreated {
			t.Fatalf("%s: enrol: %d", p.id, code)
		}
		if code := p.call(http.MethodPost, "/api/people/"+person.ID+"/credentials", map[string]any{"facility": 7, "number": 7777}, nil); code != http.StatusCreated {
			t.Fatalf("%s: card: %d", p.id, code)
		}
		ids[p.id] = person.ID
	}
	office := hq.run(hq.config(a, b), "hq-1")
	b.link.setCut(true)
	r, err := office.Revoke(context.Background(), "E-77", "honsha", "left the company")
	if err != nil {
		t.Fatal(err)
	}
	status := func() ledger.RevocationStatus {
		rs, err := hq.ledger.Revocations(context.Background(), []string{"plant-a", "plant-b"})
		if err != nil || len(rs) != 1 {
			t.Fatalf("revocations: %+v %v", rs, err)
		}
		return rs[0]
	}
	testtool.WaitFor(t, 60*time.Second, "plant-a to apply the revocation", func() bool { _, ok := status().Applied["plant-a"]; return ok })
	if st := status(); st.Applied["plant-a"] != 1 || !slices.Equal(st.Pending, []string{"plant-b"}) {
		t.Fatalf("while plant-b is cut off: %+v", st)
	}
	b.link.setCut(false)
	testtool.WaitFor(t, 60*time.Second, "plant-b to apply the revocation once its line is back", func() bool { _, ok := status().Applied["plant-b"]; return ok })
	for _, p := range []*plant{a, b} {
		person, err := p.Store.Person(context.Background(), ids[p.id])
		if err != nil || !person.Disabled {
			t.Fatalf("%s: %+v %v", p.id, person, err)
		}
		evs, err := p.Store.Events(context.Background(), store.Filter{Person: ids[p.id]})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(evs, func(ev event.Event) bool {
			return ev.Type == event.PersonDisabled && ev.Actor == "hq:honsha" && ev.Detail["hq_command"] == r.ID
		}) {
			t.Fatalf("%s logged no disabling by head office: %+v", p.id, evs)
		}
		p.swipe(7777)
		testtool.WaitFor(t, 30*time.Second, p.id+": the revoked card refused", func() bool {
			evs, _ := p.Store.Events(context.Background(), store.Filter{Person: ids[p.id]})
			return slices.ContainsFunc(evs, func(ev event.Event) bool { return ev.Type == event.AccessDenied && ev.Reason == event.ReasonDisabled })
		})
	}
}
