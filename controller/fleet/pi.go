package fleet

import (
	"crypto/ed25519"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/rules"
)

// pi is one door Pi: its doors, the version it should hold, what it said
// it holds, and the deltas lately sent it (to send again to one that
// missed some).
type pi struct {
	id     string
	header remote.Snapshot // its doors, the site's zone and holidays; no cards
	places []place
	signer *remote.Signer
	// readers caches, per set of levels, the readers of this Pi a holder
	// of them may pass: views are made per change, not per Pi and card.
	readers   map[string]map[string]rules.Schedule
	readersMu sync.Mutex // Vouch reads views from the links' goroutines

	sum      remote.Sum
	version  string
	rev      int64
	versions []versionRev // recent versions made, newest last

	status   string    // online, offline (the Pi's retained status)
	acks     []ack     // what it said it holds, newest last
	sent     string    // the version the last message sent leads to
	pushed   time.Time // when it was last sent more than one delta
	chain    []link    // the deltas lately sent, oldest first
	sealedTo string    // the enrolled key the last message was sealed to
	wholes   int       // whole snapshots sent it
}

type place struct {
	reader, zone string
	pin          bool
}

type versionRev struct {
	version string
	rev     int64
}

type ack struct {
	at      time.Time // the controller's clock
	version string
	rev     int64 // 0: a version this controller did not make (from before a restart)
}

type link struct {
	from, to string
	msg      []byte
}

// Bounds on what is remembered per Pi.
const (
	versionsKept = 256
	acksKept     = 64
	chainKept    = 128
)

func newPi(cfg *config.Config, id string, doors []config.Door, key ed25519.PrivateKey) *pi {
	p := &pi{id: id, signer: &remote.Signer{Key: key, Bridge: id}, readers: map[string]map[string]rules.Schedule{}}
	p.header = remote.Snapshot{Site: cfg.Site, Timezone: cfg.Timezone, Holidays: cfg.Holidays,
		DecisionTimeoutMS: cfg.Access.DecisionTimeout.Milliseconds()}
	if p.header.DecisionTimeoutMS <= 0 {
		p.header.DecisionTimeoutMS = remote.DefaultDecisionTimeout.Milliseconds()
	}
	for _, d := range doors {
		sd := remote.SnapshotDoor{
			ID: d.ID, Slot: d.Slot, PulseMS: d.Strike.Pulse.Milliseconds(),
			FailSafe: d.Strike.Fail == "safe", ActiveLow: d.Strike.ActiveLow,
			ContactNormallyOpen: d.Contact.Normally == "open", InsideOnly: d.InsideOnly,
			OutsideReader: d.Readers.Outside, InsideReader: d.Readers.Inside,
		}
		if r := d.Readers.Outside; r != "" {
			pin := d.WantsPIN(config.Outside)
			p.places = append(p.places, place{r, d.To, pin})
			if pin {
				sd.PINAt = append(sd.PINAt, r)
			}
		}
		if r := d.Readers.Inside; r != "" {
			pin := d.WantsPIN(config.Inside)
			p.places = append(p.places, place{r, d.From, pin})
			if pin {
				sd.PINAt = append(sd.PINAt, r)
			}
		}
		p.header.Doors = append(p.header.Doors, sd)
	}
	slices.SortFunc(p.header.Doors, func(a, b remote.SnapshotDoor) int { return strings.Compare(a.ID, b.ID) })
	return p
}

// headerSum is the sum of the Pi's doors alone, before any card.
func (p *pi) headerSum() remote.Sum {
	h := p.header
	return remote.SumOf(&h)
}

// view is the card as this Pi holds it, if it passes any of its doors: only
// its own readers, and the PIN hash only where one of them wants a PIN.
func (p *pi) view(cfg *config.Config, h *Holder) (remote.SnapshotCard, bool) {
	if h == nil {
		return remote.SnapshotCard{}, false
	}
	key := strings.Join(h.Levels, "\x00")
	p.readersMu.Lock()
	defer p.readersMu.Unlock()
	readers, ok := p.readers[key]
	if !ok {
		readers = map[string]rules.Schedule{}
		for _, pl := range p.places {
			if sched, ok := allowedIn(cfg, h.Levels, pl.zone); ok {
				readers[pl.reader] = sched
			}
		}
		if len(readers) == 0 {
			readers = nil
		}
		p.readers[key] = readers
	}
	if readers == nil {
		return remote.SnapshotCard{}, false
	}
	// Of the person, what deciding needs: a copied SD card names nobody.
	c := remote.SnapshotCard{CardKey: h.Key, Enabled: h.Enabled, ValidFrom: h.ValidFrom, ValidUntil: h.ValidUntil,
		Person: bridge.Person{ID: h.Person.ID, Kind: h.Person.Kind}, Readers: readers}
	for _, pl := range p.places {
		if _, passes := readers[pl.reader]; passes && pl.pin {
			c.PINHash = h.PINHash
		}
	}
	return c, true
}

// setVersion records a new version made (under the fleet's lock).
func (p *pi) setVersion(sum remote.Sum, rev int64) {
	p.sum, p.version, p.rev = sum, sum.Version(), rev
	p.versions = append(p.versions, versionRev{p.version, rev})
	if len(p.versions) > versionsKept {
		p.versions = p.versions[len(p.versions)-versionsKept:]
	}
}

// revOf is the revision a version was made at; 0 if not one made here.
func (p *pi) revOf(version string) int64 {
	for i := len(p.versions) - 1; i >= 0; i-- {
		if p.versions[i].version == version {
			return p.versions[i].rev
		}
	}
	return 0
}

// acked records what the Pi said it holds (under the fleet's lock).
func (p *pi) acked(at time.Time, h remote.Held) {
	p.acks = append(p.acks, ack{at: at, version: h.Version, rev: p.revOf(h.Version)})
	if len(p.acks) > acksKept {
		p.acks = p.acks[len(p.acks)-acksKept:]
	}
}

// heldAt is what the Pi had acknowledged by the controller's time t.
func (p *pi) heldAt(t time.Time) (ack, bool) {
	for i := len(p.acks) - 1; i >= 0; i-- {
		if !p.acks[i].at.After(t) {
			return p.acks[i], true
		}
	}
	return ack{}, false
}

// chainFrom is the deltas sent that lead from version to the current one.
func (p *pi) chainFrom(version string) ([][]byte, bool) {
	// From the latest link leaving version: a card switched off and on
	// again brings a version back, and the chain need not go round.
	for i := len(p.chain) - 1; i >= 0; i-- {
		l := p.chain[i]
		if l.from != version {
			continue
		}
		var msgs [][]byte
		at := version
		for _, l := range p.chain[i:] {
			if l.from != at {
				return nil, false
			}
			msgs = append(msgs, l.msg)
			at = l.to
		}
		return msgs, at == p.version
	}
	return nil, false
}
