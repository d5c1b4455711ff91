package simhw

import (
	"context"
	"fmt"

	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/osdp"
	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

var _ bridge.SerialLines = (*Board)(nil)

// osdpLine is a simulated RS-485 line: a pseudo-terminal pair with Go
// readers (osdp.Device) at the far end.
type osdpLine struct {
	devices []*osdp.Device
	opened  bool
}

// AddOSDPReader puts a simulated OSDP reader, keyed with key, at address
// on the serial line port; the bridge finds it there when it opens port.
func (b *Board) AddOSDPReader(id, port string, address byte, key []byte) *osdp.Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lines == nil {
		b.lines, b.osdp = map[string]*osdpLine{}, map[string]*osdp.Device{}
	}
	l, ok := b.lines[port]
	if !ok {
		l = &osdpLine{}
		b.lines[port] = l
	}
	d := &osdp.Device{Address: address, Key: key, ID: osdp.ID{Vendor: 0x5E15E0, Model: 1, Version: 1, Serial: uint32(len(b.osdp) + 1), Firmware: 0x010000}}
	l.devices = append(l.devices, d)
	b.osdp[id] = d
	return d
}

// OSDPReader is the simulated OSDP reader id, if there is one.
func (b *Board) OSDPReader(id string) (*osdp.Device, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.osdp[id]
	return d, ok
}

// OpenSerial implements bridge.SerialLines: the panel's end of a
// pseudo-terminal whose other end the line's readers answer on. They stop
// when the panel closes its end.
func (b *Board) OpenSerial(port string, _ int) (osdp.Port, error) {
	b.mu.Lock()
	l, ok := b.lines[port]
	if ok && l.opened {
		ok = false
	}
	if ok {
		l.opened = true
	}
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("simhw: no simulated OSDP line %q (or it is open already)", port)
	}
	panel, device, err := osdp.OpenPseudoLine()
	if err != nil {
		return nil, err
	}
	go func() {
		defer device.Close()
		// The readers' line ends when the panel closes its end.
		osdp.ServeDevices(context.Background(), device, l.devices...)
	}()
	return panel, nil
}

// Swipe presents a card at reader id, whichever kind it is: over its
// simulated OSDP line, or as Wiegand pulses on its pins.
func (b *Board) Swipe(ctx context.Context, id string, bits wiegand.Bits) error {
	if d, ok := b.OSDPReader(id); ok {
		d.PresentCard(osdp.PackBits(bits))
		return nil
	}
	return b.Reader(id).Send(ctx, bits)
}

// PressKeys enters keys at reader id, whichever kind it is.
func (b *Board) PressKeys(ctx context.Context, id, keys string) error {
	if d, ok := b.OSDPReader(id); ok {
		d.PressKeys(keys)
		return nil
	}
	return b.Reader(id).PressKeys(ctx, keys, false)
}
