package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// step is one moment of the scripted morning.
type step struct {
	swipe    string // reader
	facility uint64
	number   uint64
	garble   bool   // flip a bit: a dirty card or a bad cable
	keys     string // typed on the last reader's keypad
	rex      string // door whose exit button is pressed (a guard letting someone in)
	walk     string // door walked through: opened, then closed
}

// morning is a short shift at the demo press shop: arrivals at the
// inside-only entrance, the press area, a denial, an unknown card, a garbled read.
var morning = []step{
	{swipe: "r-main-out", facility: 12, number: 345}, // Sato asks at the entrance
	{rex: "main-entrance"},                           // the guard lets him in
	{walk: "main-entrance"},
	{swipe: "r-floor-out", facility: 12, number: 345},
	{walk: "floor-door"},
	{swipe: "r-press-out", facility: 12, number: 345}, // into the die-and-press area
	{walk: "press-door"},
	{swipe: "r-main-out", facility: 12, number: 346}, // Suzuki arrives
	{rex: "main-entrance"},
	{walk: "main-entrance"},
	{swipe: "r-floor-out", facility: 12, number: 346},
	{walk: "floor-door"},
	{swipe: "r-press-out", facility: 12, number: 346}, // not hers: denied
	{swipe: "r-floor-out", facility: UnknownCard.Facility, number: UnknownCard.Number},
	{swipe: "r-dev-out", facility: 12, number: 347, garble: true},
	{swipe: "r-dev-out", facility: 12, number: 347}, // Tanaka tries again
	{keys: "2468#"}, // and gives his PIN
	{walk: "dev-door"},
	{swipe: "r-press-in", facility: 12, number: 345}, // Sato leaves the press area
	{walk: "press-door"},
}

// DefaultPace is the pause between steps of the demo: slow enough to watch.
const DefaultPace = 700 * time.Millisecond

// Shift plays the morning on the simulated pins, pace apart (a door stays
// open for two paces). Steps that name readers or doors the config lacks are
// skipped, so it runs on trimmed demo configs too.
func Shift(ctx context.Context, cfg *config.Config, board *simhw.Board, pace time.Duration) error {
	pause := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	lastReader := ""
	for i, st := range morning {
		var err error
		switch {
		case st.keys != "":
			if lastReader == "" {
				continue
			}
			err = board.PressKeys(ctx, lastReader, st.keys)
		case st.swipe != "":
			if _, _, ok := cfg.ReaderDoor(st.swipe); !ok {
				continue
			}
			var bits wiegand.Bits
			if bits, err = wiegand.Encode(wiegand.FormatH10301, st.facility, st.number); err != nil {
				return err
			}
			if st.garble {
				bits[7] ^= 1
			}
			err = board.Swipe(ctx, st.swipe, bits)
			lastReader = st.swipe
		case st.rex != "":
			if _, ok := cfg.Door(st.rex); !ok {
				continue
			}
			err = board.Door(st.rex).PressREX(ctx)
		case st.walk != "":
			if _, ok := cfg.Door(st.walk); !ok {
				continue
			}
			if err = board.Door(st.walk).SetOpen(ctx, true); err == nil {
				if err = pause(2 * pace); err == nil {
					err = board.Door(st.walk).SetOpen(ctx, false)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("demo: shift step %d: %w", i+1, err)
		}
		if err := pause(pace); err != nil {
			return err
		}
	}
	return nil
}
