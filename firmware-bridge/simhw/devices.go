package simhw

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Wiegand timing of the simulated reader, inside the SIA range (pulse
// 20–100 µs, interval 200 µs–20 ms) and slow enough that the race detector's
// scheduling cannot reorder bits across the two lines.
const (
	WiegandPulse    = 50 * time.Microsecond
	WiegandInterval = 2 * time.Millisecond
)

// Reader is a simulated Wiegand reader: two data lines in, LED and buzzer
// lines out.
type Reader struct {
	ID          string
	D0, D1      *Pin
	LED, Buzzer *Pin

	mu sync.Mutex // one frame at a time, as from a real reader
}

// Send plays a frame as a pulse train: for each bit, the line for that bit
// is pulled low for a pulse width, then released. It returns after the
// lines have been quiet long enough for the frame to end, so two sends never
// run together into one frame.
func (r *Reader) Send(ctx context.Context, bits wiegand.Bits) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.D0.Wire; w != nil {
		// As the kernel queues a Pi's edges: whole and in order.
		_, over := w.Play(bits, WiegandPulse, WiegandInterval)
		return sleepUntil(ctx, over)
	}
	defer time.Sleep(wiegand.DefaultIsolation + 10*time.Millisecond)
	for i, b := range bits {
		line := r.D0
		if b == 1 {
			line = r.D1
		}
		if err := line.Drive(ctx, gpio.Low); err != nil {
			return fmt.Errorf("simhw: reader %s bit %d: %w", r.ID, i, err)
		}
		time.Sleep(WiegandPulse)
		if err := line.Drive(ctx, gpio.High); err != nil {
			return fmt.Errorf("simhw: reader %s bit %d: %w", r.ID, i, err)
		}
		time.Sleep(WiegandInterval)
	}
	return nil
}

// Door is the simulated hardware of one door: the lock relay output and the
// contact, REX and tamper inputs.
type Door struct {
	ID      string
	Strike  *Pin
	Contact *Pin // high while the door is open (NC switch to ground, pull-up)
	REX     *Pin // pulled low while the exit button is pressed
	Tamper  *Pin // low while the tamper loop is closed
}

// SetTampered opens or closes the tamper loop.
func (d *Door) SetTampered(ctx context.Context, tampered bool) error {
	return d.Tamper.Drive(ctx, gpio.Level(tampered))
}

// PressKeys types on the reader's keypad, one burst per key.
func (r *Reader) PressKeys(ctx context.Context, keys string, eightBit bool) error {
	for _, k := range keys {
		b, err := wiegand.KeyBits(k, eightBit)
		if err != nil {
			return err
		}
		if err := r.Send(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// SetOpen moves the door leaf.
func (d *Door) SetOpen(ctx context.Context, open bool) error {
	l := gpio.Low
	if open {
		l = gpio.High
	}
	return d.Contact.Drive(ctx, l)
}

// PressREX presses and releases the request-to-exit button.
func (d *Door) PressREX(ctx context.Context) error {
	if err := d.REX.Drive(ctx, gpio.Low); err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond) // longer than the contact debounce, as a hand is
	return d.REX.Drive(ctx, gpio.High)
}
