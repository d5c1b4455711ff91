package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// What a door Pi senses goes to the controller: a card is asked about
// while the link is up, everything is kept in the outbox and sent in order,
// and what it refused is reported.

// refusalEvery spaces a door Pi's reports of refused messages: the first is
// reported at once, the rest of a flood as one count per reason per
// interval, so forgeries cost an outbox row each interval, not each.
const refusalEvery = 10 * time.Second

// refuse logs a refused message and reports it to the controller.
func (d *Daemon) refuse(kind string, err error) {
	reason := "unsigned"
	for _, r := range []struct {
		err  error
		word string
	}{{ErrBadSignature, "bad_signature"}, {ErrOtherBridge, "other_bridge"}, {ErrWrongKind, "wrong_kind"},
		{ErrReplayed, "replayed"}, {ErrStale, "stale"}, {ErrGap, "gap"}, {ErrMismatch, "mismatch"}} {
		if errors.Is(err, r.err) {
			reason = r.word
		}
	}
	d.Log.Warn("refused a message not from the controller", "kind", kind, "reason", reason, "err", err)
	key := kind + "/" + reason
	d.mu.Lock()
	r, pending := d.refused[key]
	if pending {
		r.Count++
		r.Detail = err.Error()
		d.mu.Unlock()
		return
	}
	d.refused[key] = &Refused{Kind: kind, Reason: reason}
	d.mu.Unlock()
	d.report(Refused{Kind: kind, Reason: reason, Detail: err.Error(), Count: 1})
}

// flushRefusals reports, every refusalEvery, how many more of each kind of
// refused message came since the first was reported.
func (d *Daemon) flushRefusals(ctx context.Context) {
	tick := time.NewTicker(refusalEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d.mu.Lock()
		var later []Refused
		for key, r := range d.refused {
			if r.Count > 0 {
				later = append(later, *r)
			}
			delete(d.refused, key)
		}
		d.mu.Unlock()
		for _, r := range later {
			d.report(r)
		}
	}
}

// report keeps a refusal for the controller; off the caller's goroutine
// (paho's, for a refused message), as keeping is a disk write.
func (d *Daemon) report(r Refused) {
	env := Envelope{ID: uuid.Must(uuid.NewV7()).String(), Bridge: d.ID, Refused: &r,
		Signal: bridge.Signal{Kind: SignalRefused, At: time.Now()}}
	d.spawn(func(ctx context.Context) { d.keep(ctx, &env) })
}

// answered hears the controller's answer to the card whose envelope was id.
func (d *Daemon) answered(id string) {
	d.mu.Lock()
	ch, ok := d.waiting[id]
	delete(d.waiting, id)
	d.mu.Unlock()
	if ok {
		close(ch)
	}
}

// decisionTimeout is the site's, from the snapshot.
func (d *Daemon) decisionTimeout() time.Duration {
	if c := d.current(); c != nil && c.Header.DecisionTimeoutMS > 0 {
		return time.Duration(c.Header.DecisionTimeoutMS) * time.Millisecond
	}
	return DefaultDecisionTimeout
}

// sensed takes every signal from the doors.
func (d *Daemon) sensed(ctx context.Context, s bridge.Signal) {
	env := Envelope{ID: uuid.Must(uuid.NewV7()).String(), Bridge: d.ID, Signal: s}
	if s.Kind == bridge.SignalCard {
		d.spawn(func(ctx context.Context) { d.card(ctx, env) })
		return
	}
	d.keep(ctx, &env)
	// Reflexes that wait on no network, kept after the signal that caused
	// them so the log reads cause, then effect.
	door := d.current().door(s.Door)
	switch {
	case s.Kind == bridge.SignalREX && door != nil:
		d.local.Unlock(door.ID, time.Duration(door.PulseMS)*time.Millisecond)
	case s.Kind == bridge.SignalContact && !s.On && door != nil:
		d.local.Lock(door.ID) // closed behind the person: relock now
	}
}

// card asks the controller while the link is up; otherwise, or when no
// answer comes in time, the bridge decides from its snapshot.
func (d *Daemon) card(ctx context.Context, env Envelope) {
	up, downFor, changed := d.linkUp()
	for !up && downFor < d.OfflineAfter {
		// A blip: wait for the link rather than decide alone.
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(d.OfflineAfter - downFor):
		}
		up, downFor, changed = d.linkUp()
	}
	if up {
		answer := make(chan struct{})
		d.mu.Lock()
		d.waiting[env.ID] = answer
		d.mu.Unlock()
		body, _ := json.Marshal(env)
		asked := time.Now()
		d.client.Publish(d.topic(mqttlink.LeafSignals), 1, false, body)
		select {
		case <-answer:
			if d.Asked != nil {
				d.Asked(env.Signal.Reader, time.Since(asked), true)
			}
			return // the controller decided and logged it under env.ID
		case <-time.After(d.decisionTimeout()):
			d.mu.Lock()
			delete(d.waiting, env.ID)
			d.mu.Unlock()
			if d.Asked != nil {
				d.Asked(env.Signal.Reader, time.Since(asked), false)
			}
			d.Log.Warn("no answer from the controller; deciding from the cards it holds", "reader", env.Signal.Reader)
		case <-ctx.Done():
			return
		}
	}
	d.decideAlone(ctx, &env)
}

func (d *Daemon) decideAlone(ctx context.Context, env *Envelope) {
	s := env.Signal
	cards := d.current()
	dec := cards.decide(s.Reader, *s.Card, s.PIN, s.PINMissing, s.At)
	env.Decision = &dec
	env.Signal.PIN = "" // decided here; the PIN never leaves the door
	door, _ := cards.Header.doorOf(s.Reader)
	granted := dec.Type == granted
	// Kept before the strike moves, so the log reads grant, then unlock: one
	// local append, no network.
	d.keep(ctx, env)
	if granted && door != nil {
		if err := d.local.Unlock(door.ID, time.Duration(door.PulseMS)*time.Millisecond); err != nil {
			d.Log.Error("unlock failed", "door", door.ID, "err", err)
		}
	}
	_ = d.local.Feedback(s.Reader, "", granted, time.Duration(max(door.pulse(), 1))*time.Millisecond)
}

// keep appends to the outbox and wakes the publisher.
func (d *Daemon) keep(ctx context.Context, env *Envelope) {
	if err := d.outbox.Append(ctx, env); err != nil {
		d.Log.Error("signal not kept", "kind", env.Signal.Kind, "err", err)
		return
	}
	d.poke()
}

// publishLoop sends the outbox in order whenever the controller listens.
func (d *Daemon) publishLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if up, _, _ := d.linkUp(); up {
			if err := d.publishPending(ctx); err != nil && !errors.Is(err, context.Canceled) {
				d.Log.Warn("outbox publish stopped; will resume", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.changed:
		case <-tick.C:
		}
	}
}

func (d *Daemon) publishPending(ctx context.Context) error {
	for {
		envs, err := d.outbox.Pending(ctx, 100)
		if err != nil || len(envs) == 0 {
			return err
		}
		for _, env := range envs {
			body, _ := json.Marshal(env)
			t := d.client.Publish(d.topic(mqttlink.LeafSignals), 1, false, body)
			if !t.WaitTimeout(5*time.Second) || t.Error() != nil {
				return fmt.Errorf("seq %d: %v", env.Seq, t.Error())
			}
			if err := d.outbox.Delivered(ctx, env.Seq); err != nil {
				return err
			}
		}
	}
}
