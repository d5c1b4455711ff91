package site

import (
	"context"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/sekisho/sekisho/controller/event"
)

// Under systemd (Type=notify) the controller says when its doors are ready
// and, with WatchdogSec, proves the door loop alive: only an answer from the
// loop itself feeds the watchdog, so a loop that hangs stops feeding it and
// systemd restarts the service. Before that, the strikes are locked from
// here, around the hung loop. Outside systemd all of this does nothing.

// notifySystemd tells systemd one thing about the service's state.
func (s *Site) notifySystemd(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		s.log.Warn("systemd notification failed", "state", state, "err", err)
	}
}

// watchLoop feeds systemd's watchdog for as long as the door loop answers.
func (s *Site) watchLoop(ctx context.Context) error {
	limit, err := daemon.SdWatchdogEnabled(false)
	if err != nil || limit <= 0 {
		return nil
	}
	// Three tries per watchdog period: one slow answer on a busy Pi is no
	// reason to restart the doors.
	every := limit / 3
	tick := time.NewTicker(every)
	defer tick.Stop()
	hung := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if s.loopAnswers(ctx, every) {
			if hung {
				hung = false
				s.log.Warn("the door loop answers again; feeding the watchdog")
			}
			s.notifySystemd(daemon.SdNotifyWatchdog)
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if !hung {
			hung = true
			s.loopHung(every)
		}
	}
}

// loopAnswers asks the door loop to run nothing, and waits up to within.
func (s *Site) loopAnswers(ctx context.Context, within time.Duration) bool {
	answered := make(chan struct{})
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case s.tasks <- func(context.Context) { close(answered) }:
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
	select {
	case <-answered:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// loopHung locks every strike around the loop and says why the watchdog
// will restart the service. The log's writer is not the loop, so the
// fault reaches the log and MQTT even so.
func (s *Site) loopHung(waited time.Duration) {
	s.log.Error("the door loop does not answer; every door locked; systemd's watchdog will restart the controller", "waited", waited)
	for _, d := range s.Config.Doors {
		if err := s.link.Lock(d.ID); err != nil {
			s.log.Error("lock with the loop hung", "door", d.ID, "err", err)
		}
	}
	s.journal.Record(&event.Event{Type: event.SystemFault, Detail: map[string]string{
		"while": "watchdog", "detail": "the door loop did not answer within " + waited.String() + "; every door was locked"}})
	s.notifySystemd("STATUS=door loop hung; every door locked")
}
