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
	{swipe: "r-dev-out", facility: UnknownCard.Facility, number: UnknownCard.Number},
	{swipe: "r-dev-out", facility: 12, number: 347, garble: true},
	{swipe: "r-dev-out", facility: 12, number: 347}, // Tanaka tries again
	{walk: "dev-door"},
	{swipe: "r-press-in", facility: 12, number: 345}, // Sato leaves the press area
	{walk: "press-door"},
}

// Shift plays the morning on the simulated pins. Steps that name readers or
// doors the config lacks are skipped, so it runs on trimmed demo configs too.
func Shift(ctx context.Context, cfg *config.Config, board *simhw.Board) error {
	pause := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	for i, st := range morning {
		var err error
		switch {
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
			err = board.Reader(st.swipe).Send(ctx, bits)
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
				if err = pause(1500 * time.Millisecond); err == nil {
					err = board.Door(st.walk).SetOpen(ctx, false)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("demo: shift step %d: %w", i+1, err)
		}
		if err := pause(700 * time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
