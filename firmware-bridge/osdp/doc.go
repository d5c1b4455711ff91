// Package osdp is a Control Panel for OSDP readers (SIA OSDP v2.2,
// IEC 60839-11-5) on an RS-485 bus, with Secure Channel required: frames,
// the Secure Channel's keys and MACs (AES-128 from crypto/aes), the
// commands and replies a door needs, the poll cycle over several readers on
// one bus, and a Peripheral Device that the simulator and the tests run.
//
// Wiegand sends a card in clear down two wires that anyone can clip onto;
// OSDP over Secure Channel authenticates every message both ways and hides
// card data, and it carries the reader's tamper and power state back. A
// reader keyed with its own SCBK never falls back to clear text here: a
// reader that answers in clear, fails a MAC, or stops offering Secure
// Channel is reported insecure and its cards are not passed on.
package osdp
