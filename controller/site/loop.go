package site

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/sekisho/sekisho/controller/alarms"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/readerstate"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// emit is called by the bridge from its goroutines.
// It waits for the loop to take the signal, or for the site to stop; no
// strike or timer waits on it (bridges hand signals over from a queue).
func (s *Site) emit(ctx context.Context, sig bridge.Signal) {
	select {
	case s.signals <- sig:
	case <-ctx.Done():
	}
}

// loop handles one signal at a time, so a door's events are logged in the
// order its hardware saw them.
func (s *Site) loop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case sig := <-s.signals:
			s.safely(ctx, "signal "+sig.Kind, func() { s.handle(ctx, sig) })
		case task := <-s.tasks:
			s.safely(ctx, "task", func() { task(ctx) })
		case r := <-s.rejections:
			s.safely(ctx, "rejection", func() { s.onRejected(ctx, r) })
		}
	}
}

// safely runs one piece of the loop's work. Should it panic, the loop lives
// on: every strike is locked, the fault is logged and alarmed.
func (s *Site) safely(ctx context.Context, what string, f func()) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		stack := string(debug.Stack())
		s.log.Error("door loop fault; every door locked", "while", what, "panic", v, "stack", stack)
		for _, d := range s.Config.Doors {
			if err := s.link.Lock(d.ID); err != nil {
				s.log.Error("lock after fault", "door", d.ID, "err", err)
			}
		}
		// Logging is itself guarded: a fault while logging the fault must
		// not take the loop down either.
		defer func() { _ = recover() }()
		s.journal.Record(&event.Event{Type: event.SystemFault, Detail: map[string]string{"while": what, "panic": fmt.Sprint(v)}})
		s.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmFault, Detail: fmt.Sprintf("door loop fault while handling %s: %v; every door was locked", what, v)})
	}()
	f()
}

// rejected hears of a door Pi's message that was not acted on. It runs on
// the link's goroutine and never blocks it: a flood is counted, not queued.
func (s *Site) rejected(r remote.Rejection) {
	select {
	case s.rejections <- r:
	default:
		s.rejectionsLost.Add(1)
	}
}

// rejectAlarmAfter rejections from one door Pi within rejectWindow raise an
// alarm, at most once per rejectQuiet.
const (
	rejectAlarmAfter = 5
	rejectWindow     = time.Minute
	rejectQuiet      = 10 * time.Minute
)

func (s *Site) onRejected(ctx context.Context, r remote.Rejection) {
	now := time.Now()
	ev := &event.Event{Type: event.BridgeRejected, Reason: r.Reason, Detail: map[string]string{
		"bridge": r.Bridge, "envelope": r.Envelope, "detail": r.Detail}}
	// The door and reader are named only when they are the door Pi's own:
	// a forged name must not put an event on another door's history.
	if r.Reader != "" {
		ev.Detail["reader"] = r.Reader
	}
	if r.Door != "" {
		ev.Detail["door"] = r.Door
	}
	if lost := s.rejectionsLost.Swap(0); lost > 0 {
		ev.Detail["not_logged"] = strconv.FormatInt(lost, 10)
	}
	s.journal.Record(ev)
	recent := s.rejectCounts[r.Bridge][:0]
	for _, at := range s.rejectCounts[r.Bridge] {
		if now.Sub(at) < rejectWindow {
			recent = append(recent, at)
		}
	}
	recent = append(recent, now)
	s.rejectCounts[r.Bridge] = recent
	if key := r.Bridge + "/overwritten"; r.Reason == "overwritten" {
		// Someone wrote the controller's link status in its name: the link
		// put its own back (once a minute at most); it is alarmed at once,
		// and a flood of them once per rejectQuiet.
		if now.Sub(s.rejectAlarmed[key]) > rejectQuiet {
			s.rejectAlarmed[key] = now
			s.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmBridgeRejected, Detail: fmt.Sprintf("%s: %s", r.Bridge, r.Detail)})
		}
		return
	}
	if len(recent) >= rejectAlarmAfter && now.Sub(s.rejectAlarmed[r.Bridge]) > rejectQuiet {
		s.rejectAlarmed[r.Bridge] = now
		s.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmBridgeRejected, Detail: fmt.Sprintf(
			"%d messages of door Pi %s rejected within a minute (last: %s): someone may be sending in its name", len(recent), r.Bridge, r.Reason)})
	}
}

func (s *Site) handle(ctx context.Context, sig bridge.Signal) {
	if sig.Kind == bridge.SignalCard && sig.Decided != nil {
		s.onBridgeDecision(ctx, sig)
		return
	}
	switch sig.Kind {
	case bridge.SignalCard:
		s.onCard(ctx, sig)
	case bridge.SignalReader:
		o := readerstate.Of(sig)
		claimed(&o.Event, sig)
		s.journal.Record(&o.Event)
		if o.Raise != nil {
			s.alarms.Raise(*o.Raise)
		}
		if len(o.Clear) > 0 {
			s.alarms.Clear(sig.Door, o.Clear...)
		}
	case bridge.SignalBadFrame:
		ev := s.readerEvent(sig)
		ev.Type, ev.Reason = event.AccessDenied, event.ReasonBadFrame
		ev.Detail = map[string]string{"bits": sig.Bits, "error": sig.Error}
		claimed(ev, sig)
		s.journal.Record(ev)
		for _, a := range s.engine.BadFrame(sig.Reader, ev.Door, sig.At) {
			s.alarms.Raise(engineAlarm(a))
		}
	default:
		s.onDoor(ctx, sig)
	}
}

// onBridgeDecision logs what a door Pi decided alone while cut off.
func (s *Site) onBridgeDecision(ctx context.Context, sig bridge.Signal) {
	ev := s.readerEvent(sig)
	d := sig.Decided
	ev.Type, ev.Reason, ev.DecidedBy = d.Type, d.Reason, "bridge"
	if p := d.Person; p != nil {
		ev.Person = &event.Person{ID: p.ID, Name: p.Name, Kind: p.Kind, Company: p.Company}
		// A door Pi holds a person's id and kind; the name is the site's.
		if h, ok := holderOf(s.fleet, sig); ok && h.Person.ID == p.ID {
			ev.Person.Name, ev.Person.Company = h.Person.Name, h.Person.Company
		}
	}
	ev.Detail = map[string]string{"snapshot": d.Snapshot}
	claimed(ev, sig)
	if sig.Unvouched != "" && d.Type == event.AccessGranted {
		s.unvouched(ctx, sig, ev)
		return
	}
	s.journal.Record(ev)
}

func (s *Site) readerEvent(sig bridge.Signal) *event.Event {
	ev := &event.Event{ID: sig.ID, Time: sig.At, Reader: sig.Reader, Door: sig.Door}
	if d, side, ok := s.Config.ReaderDoor(sig.Reader); ok {
		ev.Door, ev.Side = d.ID, string(side)
		ev.ZoneFrom, ev.ZoneTo = d.From, d.To
		if side == config.Inside {
			ev.ZoneFrom, ev.ZoneTo = d.To, d.From
		}
	}
	if sig.PIN != "" || sig.PINMissing {
		ev.Detail = map[string]string{"pin": map[bool]string{true: "entered", false: "missing"}[sig.PIN != ""]}
	}
	if sig.Channel != "" {
		if ev.Detail == nil {
			ev.Detail = map[string]string{}
		}
		// Which kind of reader, and whether the card came under Secure
		// Channel: a manager can tell a Wiegand read from an OSDP one.
		ev.Detail["channel"] = sig.Channel
	}
	if c := sig.Card; c != nil {
		// FC:CN as printed, beside the raw value a reader tool shows.
		ev.Credential = &event.Credential{Format: c.Format, Facility: c.Facility, Number: c.Number, Hex: c.Hex}
	}
	return ev
}

func (s *Site) onDoor(ctx context.Context, sig bridge.Signal) {
	out := s.Doors.Apply(sig)
	for i := range out.Events {
		if sig.ID != "" {
			// Ids follow the door Pi's, so a replay is logged once.
			out.Events[i].ID = sig.ID
			if i > 0 {
				out.Events[i].ID = fmt.Sprintf("%s.%d", sig.ID, i)
			}
		}
		if a := out.Events[i].Alarm; a != nil {
			a.ID = alarms.NewID() // one id in the event, the alarm and alarm.raised
		}
		claimed(&out.Events[i], sig)
		s.journal.Record(&out.Events[i])
		s.alarms.DoorEvent(out.Events[i])
	}
	door, _ := s.Config.Door(sig.Door)
	switch {
	case out.Relock:
		if err := s.link.Lock(sig.Door); err != nil {
			s.log.Error("relock failed", "door", sig.Door, "err", err)
		}
	case sig.Kind == bridge.SignalREX && sig.ID == "":
		// Egress is never blocked by software. (A door Pi opens for its
		// own exit button; its report moves nothing here.)
		if err := s.link.Unlock(sig.Door, door.Strike.Pulse); err != nil {
			s.log.Error("REX unlock failed", "door", sig.Door, "err", err)
		}
	}
	if out.HeldCheck > 0 {
		id, opening := sig.Door, out.Opening
		time.AfterFunc(out.HeldCheck, func() {
			s.do(ctx, func(ctx context.Context) {
				for _, ev := range s.Doors.Held(id, opening, time.Now()) {
					ev.Alarm.ID = alarms.NewID()
					s.journal.Record(&ev)
					s.alarms.DoorEvent(ev)
				}
			})
		})
	}
}

// onLoop runs f on the door loop and waits for it: a guard's command takes
// its turn with the doors' own events, so the log's order is the order
// things happened. f returns the events it recorded, and onLoop waits until
// they are in the log, so the caller is answered only once they are.
func (s *Site) onLoop(ctx context.Context, f func(ctx context.Context) ([]<-chan error, error)) error {
	answer := make(chan error, 1)
	var logged []<-chan error
	task := func(loopCtx context.Context) {
		var err error
		defer func() {
			if v := recover(); v != nil {
				answer <- fmt.Errorf("site: fault in a command: %v", v)
				panic(v) // the loop's own recovery locks the doors and alarms
			}
			answer <- err
		}()
		logged, err = f(loopCtx)
	}
	select {
	case s.tasks <- task:
	case <-ctx.Done():
		return ctx.Err()
	}
	var err error
	select {
	case err = <-answer:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	for _, done := range logged {
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, sekisho.ErrDuplicate) {
				return fmt.Errorf("site: logged: %w", err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// do runs f on the loop, unless the site is stopping.
func (s *Site) do(ctx context.Context, f func(context.Context)) {
	select {
	case s.tasks <- f:
	case <-ctx.Done():
	}
}

// loopRunner lends the door loop to a part that must take its turn there.
type loopRunner func(ctx context.Context, f func(ctx context.Context) ([]<-chan error, error)) error

func (r loopRunner) OnLoop(ctx context.Context, f func(ctx context.Context) ([]<-chan error, error)) error {
	return r(ctx, f)
}
