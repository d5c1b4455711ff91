package camera

import (
	"fmt"
	"testing"
)

// A flood of Frigate messages: the queue sheds routine updates first, then
// routine news, and never a possible violation.
func TestFloodShedsRepeatsNeverViolations(t *testing.T) {
	var q detectionQueue
	q.init()
	for i := range queueRoutine {
		q.push(Detection{Type: "update", ID: fmt.Sprint("car-", i), Label: "car"}, false)
	}
	// New objects push out the queued repeats.
	for i := range 100 {
		if !q.push(Detection{Type: "new", ID: fmt.Sprint("person-", i), Label: "person"}, false) {
			t.Fatal("a full queue shed nothing")
		}
	}
	// More repeats, and in the middle of them three violations.
	for i := range 5000 {
		q.push(Detection{Type: "update", ID: fmt.Sprint("car-x", i), Label: "car"}, false)
		if i%2000 == 0 {
			q.push(Detection{Type: "new", ID: fmt.Sprint("phone-", i), Label: "cell phone"}, true)
		}
	}
	seen := map[string]bool{}
	var first []string
	for {
		d, ok := q.pop()
		if !ok {
			break
		}
		if len(first) < 3 {
			first = append(first, d.ID)
		}
		seen[d.ID] = true
	}
	for _, id := range []string{"phone-0", "phone-2000", "phone-4000"} {
		if !seen[id] {
			t.Errorf("violation %s was shed", id)
		}
	}
	if first[0] != "phone-0" || first[1] != "phone-2000" || first[2] != "phone-4000" {
		t.Errorf("violations are not weighed first: %v", first)
	}
	for i := range 100 {
		if !seen[fmt.Sprint("person-", i)] {
			t.Errorf("a new object was shed while repeats were queued: person-%d", i)
		}
	}
	total := queueRoutine + 100 + 5000
	if shed := q.takeShed(); shed != total-queueRoutine {
		t.Errorf("shed %d, want %d counted", shed, total-queueRoutine)
	}
}

// Forged "violations" (a broker without users) cannot fill memory: past
// their bound they are counted as shed, and the alarm says so.
func TestUrgentDetectionsHaveABound(t *testing.T) {
	var q detectionQueue
	q.init()
	for i := range queueUrgent + 5 {
		q.push(Detection{Type: "new", ID: fmt.Sprint("phone-", i), Label: "cell phone"}, true)
	}
	if shed := q.takeShed(); shed != 5 {
		t.Fatalf("shed %d urgent past the bound, want 5", shed)
	}
}
