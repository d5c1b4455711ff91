// Package doorio drives one door's lines: the lock relay output and the
// debounced contact, REX and tamper inputs.
package doorio
