package site

import (
	"context"
	"time"

	"github.com/sekisho/sekisho/controller/access"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// onCard asks the engine, moves the relay, then logs: the door waits on
// the decision alone, made from memory; the log's writer appends later.
func (s *Site) onCard(ctx context.Context, sig bridge.Signal) {
	req := access.Request{Reader: sig.Reader, Card: *sig.Card, PIN: sig.PIN, PINMissing: sig.PINMissing, At: sig.At}
	out, err := s.engine.Card(ctx, req)
	if err != nil {
		s.log.Error("access decision failed; door stays locked", "reader", sig.Reader, "err", err)
		return
	}
	door, side, _ := s.Config.ReaderDoor(sig.Reader)
	if out.Unlock {
		if err := s.link.Unlock(door.ID, door.Strike.Pulse); err != nil {
			s.log.Error("unlock failed", "door", door.ID, "err", err)
		} else if sig.ID == "" {
			// One of the controller's own readers: its clock timed the last bit.
			s.meters.unlockLatency.Observe(time.Since(sig.At).Seconds())
		}
	}
	if out.Hold > 0 {
		// The card waits for its escort or second person; say no if nobody comes.
		token := out.Token
		time.AfterFunc(out.Hold, func() {
			s.do(ctx, func(ctx context.Context) {
				if dec, ok := s.engine.Expire(door.ID, token); ok {
					s.logDecision(ctx, sig, dec)
					s.feedback(sig, false, door)
				}
			})
		})
	}
	for i, dec := range out.Decisions {
		d := sig
		if i > 0 {
			d.ID = "" // the partner's card was read earlier; its event gets its own id
		}
		s.logDecision(ctx, d, dec)
	}
	if len(out.Decisions) > 0 {
		s.feedback(sig, out.Unlock, door)
	}
	for _, a := range out.Alarms {
		s.alarms.Raise(engineAlarm(a))
	}
	// A visitor badging out at the inside reader of an inside-only door is
	// leaving the site: that is the checkout. The desk lets the badge go in
	// memory; the database follows in the log's order, off this loop.
	for _, dec := range out.Decisions {
		if dec.Granted() && dec.Visit != nil && door.InsideOnly && side == config.Inside {
			s.desk.Left(*dec.Visit, "badge at "+door.ID)
		}
	}
}

// feedback shows the answer at the card's reader; a door Pi matches it to
// the card by the signal's id.
func (s *Site) feedback(sig bridge.Signal, granted bool, door config.Door) {
	if err := s.link.Feedback(sig.Reader, sig.ID, granted, door.Strike.Pulse); err != nil {
		s.log.Warn("reader feedback", "reader", sig.Reader, "err", err)
	}
}

// logDecision appends one access event.
func (s *Site) logDecision(ctx context.Context, sig bridge.Signal, dec access.Decision) {
	ev := s.readerEvent(sig)
	ev.Type, ev.Reason = dec.Type, dec.Reason
	ev.ZoneFrom, ev.ZoneTo = dec.From, dec.To
	if p := dec.Person; p != nil {
		ev.Person = p.Logged()
		if dec.Credential != nil && sig.Card != nil && (sig.Card.Number != dec.Credential.Number || sig.Card.Facility != dec.Credential.Facility) {
			// A partner's decision: its own card, not this signal's.
			ev.Credential = &event.Credential{Format: dec.Credential.Format, Facility: dec.Credential.Facility, Number: dec.Credential.Number}
			ev.Time = time.Now()
		}
	}
	if dec.Visit != nil {
		ev.Visit = dec.Visit.ID
	}
	if dec.Partner != nil || dec.Violation != "" {
		if ev.Detail == nil {
			ev.Detail = map[string]string{}
		}
		if dec.Partner != nil {
			ev.Detail["with"] = dec.Partner.ID
			ev.Detail["with_name"] = dec.Partner.Name
		}
		if dec.Violation != "" {
			ev.Detail["violation"] = dec.Violation
		}
	}
	s.lastDecision = s.journal.Record(ev)
}

// engineAlarm is an alarm the access engine asks for.
func engineAlarm(a access.Alarm) sekisho.Alarm {
	return sekisho.Alarm{Kind: a.Kind, Severity: a.Severity, Door: a.Door, Reader: a.Reader, PersonID: a.PersonID, Detail: a.Detail}
}

// watchCards keeps every card in memory for the doors' decisions. A change
// made here is loaded by whoever made it; one made by another process (the
// controller CLI importing a CSV while the site runs) is noticed within a
// second and loaded then. Should a load fail, doors refuse every card and
// this tries again each second.
func (s *Site) watchCards(ctx context.Context) error {
	return every(ctx, time.Second, false, func(ctx context.Context) {
		if err := s.Store.LoadCards(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("cards not in memory: doors refuse every card until they are", "err", err)
			return
		}
		moved, err := s.Store.NoticeOutsideChanges(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("checking for card changes", "err", err)
		}
		if moved {
			s.log.Info("people or cards changed outside the controller; the card list was loaded again")
		}
	})
}

// heldCards answers the doors from the cards in memory alone: a door never
// waits on the database.
type heldCards struct{ st *store.Store }

func (h heldCards) CardHolder(_ context.Context, format string, facility, number uint64, rawHex string) (sekisho.Credential, sekisho.Person, error) {
	return h.st.HeldCard(format, facility, number, rawHex)
}
