package site

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/sekisho/sekisho/controller/event"
)

// Home Assistant's lock entities send LOCK and UNLOCK for a door. The
// embedded broker hears them only from a login marked home_assistant, and
// names that login; nothing else, and no broker without users, can
// command a door.

type doorCommand struct{ user, door, payload string }

// heardCommand takes a command from the broker's goroutine without
// waiting: a flood is dropped and said so, never queued without end.
func (s *Site) heardCommand(user, door, payload string) {
	select {
	case s.commands <- doorCommand{user, door, payload}:
	default:
		s.log.Warn("a Home Assistant command was dropped: too many at once", "user", user, "door", door)
	}
}

// commandsHeard says whether lock entities can work here: the embedded
// broker with a Home Assistant login.
func (s *Site) commandsHeard() bool {
	if e := s.Config.MQTT.Embedded; e != nil {
		for _, u := range e.Users {
			if u.HomeAssistant {
				return true
			}
		}
	}
	return false
}

func (s *Site) doCommands(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-s.commands:
			s.doorCommand(ctx, c)
		}
	}
}

// doorCommand carries out one command. UNLOCK is a momentary unlock, as a
// guard's from the console, logged under the Home Assistant login; at an
// inside-only door it is refused and the refusal logged, which Home
// Assistant sees as the door's swipe event. LOCK locks at once.
func (s *Site) doorCommand(ctx context.Context, c doorCommand) {
	by := "homeassistant:" + c.user
	d, ok := s.Config.Door(c.door)
	refuse := func(reason, detail string) {
		ev := &event.Event{Type: event.AccessDenied, Reason: reason, Actor: by, Detail: map[string]string{"by": "home_assistant", "command": clip(c.payload), "detail": detail}}
		if ok {
			ev.Door, ev.ZoneFrom, ev.ZoneTo = d.ID, d.From, d.To
		}
		s.journal.Record(ev)
	}
	switch {
	case !ok:
		refuse("unknown_door", fmt.Sprintf("no door %q", clip(c.door)))
	case c.payload == "UNLOCK" && d.InsideOnly:
		refuse(event.ReasonInsideOnly, d.ID+" unlocks only from inside")
	case c.payload == "UNLOCK":
		if err := s.console.unlockFor(ctx, d.ID, by, "home_assistant"); err != nil {
			s.log.Error("Home Assistant unlock failed", "door", d.ID, "err", err)
		}
	case c.payload == "LOCK":
		s.do(ctx, func(ctx context.Context) {
			if err := s.link.Lock(d.ID); err != nil {
				s.log.Error("Home Assistant lock failed", "door", d.ID, "err", err)
			}
		})
	default:
		refuse("bad_command", fmt.Sprintf("%q: want LOCK or UNLOCK", clip(c.payload)))
	}
}

// clip keeps what a command said short enough for the log: the login is
// trusted to command, not to fill the card.
func clip(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

// dashboardURL is where Home Assistant's device page links to.
func (s *Site) dashboardURL() string {
	host, port, err := net.SplitHostPort(s.Config.HTTP.Listen)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host, _ = os.Hostname()
	}
	scheme := "http"
	if s.Config.HTTP.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
