package osdp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// InstallTimeout bounds install mode: it is open for one reader, once.
const InstallTimeout = 30 * time.Second

// Install keys a factory-fresh reader at address on port: Secure Channel
// with SCBK-D for one session, a new random key kept under keys for reader
// before it is sent (KEYSET), and install mode closed as soon as the reader
// takes it or refuses. Each step is logged.
func Install(ctx context.Context, port Port, address byte, baud int, keys KeyStore, reader string, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if _, err := keys.path(reader); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, InstallTimeout)
	defer cancel()
	result := make(chan error, 1)
	finish := func(err error) {
		select {
		case result <- err:
		default:
		}
	}
	log.Warn("osdp install mode open: the default key SCBK-D is accepted for one session", "reader", reader, "address", address, "baud", baud)
	bus := &Bus{Port: port, Log: log, Readers: []ReaderConfig{{Address: address, Install: true,
		Keyed: func(k []byte) error { return keys.Save(reader, k) }}},
		Events: func(e Event) {
			switch e.Kind {
			case EventKeyed:
				finish(nil)
			case EventInsecure:
				finish(e.Err)
			}
		}}
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx) }()
	var err error
	select {
	case err = <-result:
	case <-ctx.Done():
		err = fmt.Errorf("osdp: reader %s did not take its key within %s: %w", reader, InstallTimeout, ctx.Err())
	}
	cancel()
	if rerr := <-done; rerr != nil && !errors.Is(rerr, errBusClosed) {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		log.Error("osdp install mode closed: the reader was not keyed", "reader", reader, "err", err)
		return err
	}
	log.Warn("osdp install mode closed: the reader has its own key, and SCBK-D is refused from now on", "reader", reader, "key_file", keys.Dir)
	return nil
}
