package site

import "context"

// FaultOnLoop makes the door loop panic, as a bug in one of its handlers
// would.
func (s *Site) FaultOnLoop(ctx context.Context) {
	s.do(ctx, func(context.Context) { panic("injected fault") })
}
