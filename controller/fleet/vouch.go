package fleet

import (
	"fmt"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Vouch says why a grant door Pi id made alone is not backed by the newest
// cards it had acknowledged at the moment it decided ("" when it is). at
// is the decision's time on the controller's clock. A Pi that grants from
// cards older than it had acknowledged — an old snapshot kept, or replayed
// — is caught here: the grant is logged for what it was.
func (f *Fleet) Vouch(id string, sig bridge.Signal, d *bridge.Decision, at time.Time) string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p, ok := f.pis[id]
	if !ok {
		return fmt.Sprintf("%s is not one of this site's door Pis", id)
	}
	held, ok := p.heldAt(at)
	if !ok {
		return fmt.Sprintf("%s had acknowledged no cards by %s", id, at.UTC().Format(time.RFC3339))
	}
	// The version used may be newer than the last acknowledgement that had
	// arrived (the Pi acknowledges after it applies), never older.
	used, heldRev := p.revOf(d.Snapshot), p.revOf(held.version)
	switch {
	case used == 0:
		return fmt.Sprintf("decided from version %s, which this controller did not make (from before a restart?)", d.Snapshot)
	case heldRev == 0 || used < heldRev:
		return fmt.Sprintf("decided from version %s, older than %s which %s had acknowledged", d.Snapshot, held.version, id)
	}
	if sig.Card == nil {
		return "a grant with no card"
	}
	e, ok := f.cards[remote.KeyOf(*sig.Card)]
	if !ok {
		return fmt.Sprintf("card %s is not one of the site's", sig.Card.Printed())
	}
	h, known := e.at(used)
	if !known {
		return fmt.Sprintf("card %s changed too often since version %s to tell what it was", sig.Card.Printed(), d.Snapshot)
	}
	c, passes := p.view(f.Config, h)
	switch {
	case !passes:
		return fmt.Sprintf("card %s was not in version %s", sig.Card.Printed(), d.Snapshot)
	case !c.Enabled:
		return fmt.Sprintf("card %s was disabled in version %s", sig.Card.Printed(), d.Snapshot)
	case !hasReader(c, sig.Reader):
		return fmt.Sprintf("card %s may not pass %s in version %s", sig.Card.Printed(), sig.Reader, d.Snapshot)
	case d.Person == nil || d.Person.ID != c.Person.ID:
		return fmt.Sprintf("the holder of card %s in version %s is %s, not the one named", sig.Card.Printed(), d.Snapshot, c.Person.ID)
	}
	return ""
}

func hasReader(c remote.SnapshotCard, reader string) bool {
	_, ok := c.Readers[reader]
	return ok
}

// Holder is the card's holder as the fleet has it now: a door Pi holds
// only a person's id and kind, and the log names them from here.
func (f *Fleet) Holder(c wiegand.Card) (*Holder, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	e, ok := f.cards[remote.KeyOf(c)]
	if !ok {
		return nil, false
	}
	return e.now(), true
}
