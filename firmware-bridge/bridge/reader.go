package bridge

import (
	"context"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/doorio"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Reader is a badge reader as a door needs it: it yields what is presented
// at it, frame by frame (a card's bits, a key), and shows the answer on its
// LED and buzzer. Every reader's frames go through the site's one format
// decoder. Wiegand wired to GPIO is one kind; an OSDP reader on a serial bus
// would be a package of its own behind this interface.
type Reader interface {
	// Run yields each frame until ctx ends.
	Run(ctx context.Context, yield func(wiegand.Result)) error
	// Show shows a decision for ledFor.
	Show(granted bool, ledFor time.Duration)
}

// Readers is hardware that offers some readers whole (not as pins); a
// reader it does not offer is read from its pins as Wiegand.
type Readers interface {
	Offers(id string) (Reader, bool)
}

// wiegandReader is a Wiegand reader on GPIO: its data lines as one ordered
// stream of edges, its LED and buzzer lines.
type wiegandReader struct {
	rx       *wiegand.Receiver
	feedback *doorio.Feedback
}

func (w *wiegandReader) Run(ctx context.Context, yield func(wiegand.Result)) error {
	return w.rx.Run(ctx, yield)
}

func (w *wiegandReader) Show(granted bool, ledFor time.Duration) { w.feedback.Show(granted, ledFor) }

// openReader is the reader id of the layout, whole from the hardware if it
// offers it, else Wiegand from its pins.
func (l *Local) openReader(id string) (Reader, error) {
	if rs, ok := l.hw.(Readers); ok {
		if r, ok := rs.Offers(id); ok {
			return r, nil
		}
	}
	pins, err := l.hw.ReaderPins(id)
	if err != nil {
		return nil, err
	}
	lines, err := pins.lines()
	if err != nil {
		return nil, err
	}
	framer := wiegand.Framer{Gap: l.layout.FrameGap, Longest: l.layout.Decoder.Longest()}
	return &wiegandReader{rx: &wiegand.Receiver{Lines: lines, Framer: framer}, feedback: doorio.NewFeedback(pins.LED, pins.Buzzer)}, nil
}
