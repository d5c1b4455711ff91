package site

import (
	"context"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
)

// FaultOnLoop makes the door loop panic, as a bug in one of its handlers
// would.
func (s *Site) FaultOnLoop(ctx context.Context) {
	s.do(ctx, func(context.Context) { panic("injected fault") })
}

// StallLoop keeps the door loop busy until release is called.
func (s *Site) StallLoop(ctx context.Context) (release func()) {
	started, done := make(chan struct{}), make(chan struct{})
	s.do(ctx, func(context.Context) { close(started); <-done })
	<-started
	return func() { close(done) }
}

// FillSignals fills the door loop's inbox, as a door Pi's replay after an
// outage would; it returns how many it added.
func (s *Site) FillSignals(door string) int {
	for n := 0; ; n++ {
		select {
		case s.signals <- bridge.Signal{Kind: bridge.SignalContact, Door: door, On: false, At: time.Now()}:
		default:
			return n
		}
	}
}

// UnlockDirect unlocks a door the way the loop does, with no log of its own.
func (s *Site) UnlockDirect(door string, pulse time.Duration) error {
	return s.link.Unlock(door, pulse)
}

// TailgatingWindowOpen says whether door's tailgating window is still
// counting people against its grants.
func (s *Site) TailgatingWindowOpen(door string) bool { return s.cams.corr.Counting(door) }
