package osdp

import (
	"fmt"

	"go.bug.st/serial"
)

// OpenSerial opens an RS-485 line raw at 8N1. The line's direction is
// switched in hardware (an auto-direction transceiver, or the UART's own
// RS-485 mode set up by the kernel's device tree): hardware/README.md.
func OpenSerial(path string, baud int) (Port, error) {
	if baud < 9600 || baud > 115200 {
		return nil, fmt.Errorf("osdp: %s: baud %d, want 9600–115200", path, baud)
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("osdp: %s: %w", path, err)
	}
	return p, nil
}
