// Package wiegand turns Wiegand D0/D1 pulses read from GPIO edges into card
// numbers, and card numbers back into pulse trains for simulated readers.
//
// Bits are most significant first: bit 0 is the first bit the reader sends.
package wiegand
