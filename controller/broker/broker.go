// Package broker runs the embedded MQTT broker (mochi-mqtt), so a site needs
// no server of its own. An external Mosquitto or EMQX replaces it by config.
package broker

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/listeners"
	"go.etcd.io/bbolt"
)

// Broker is a running embedded broker.
type Broker struct {
	server *mqtt.Server
	tcp    *listeners.TCP
	local  *listeners.TCP // the controller's own, on loopback, when tcp speaks TLS
}

// Start listens on addr (":1883", or ":0" for any free port). With no
// access rules anyone may connect, as in the demo; with them, only the
// controller and the listed users. With tlsConfig the listener speaks TLS,
// and the controller's own clients get a loopback listener of their own.
//
// With sessions (a file in the data dir), subscribers' persistent sessions,
// their subscriptions and the QoS 1 messages queued for them are kept on
// disk by mochi's bolt hook, so a subscriber that was away, or a broker
// killed and restarted, loses no event.
func Start(addr string, access *Access, tlsConfig *tls.Config, sessions string, log *slog.Logger) (*Broker, error) {
	opts := &mqtt.Options{InlineClient: true, Logger: log.With("part", "broker")}
	// Queued for a subscriber that is away: the most mochi allows, so an
	// afternoon offline at a busy site is kept whole.
	opts.Capabilities = mqtt.NewDefaultServerCapabilities()
	opts.Capabilities.MaximumInflight = 65535
	server := mqtt.New(opts)
	var err error
	var store *sessionStore
	if sessions != "" {
		// Without an fsync per message: a queue survives the controller
		// killed (the OS still writes it), and a power cut costs at most what
		// the outbox sends again at start; an fsync for every event and
		// every door-Pi message held up the door Pis' link on a busy card.
		store = new(sessionStore)
		err = server.AddHook(store, &bolt.Options{Path: sessions, Options: &bbolt.Options{Timeout: 5 * time.Second, NoSync: true}})
		if err != nil {
			return nil, fmt.Errorf("broker: sessions %s: %w", sessions, err)
		}
	}
	takeover := &sessionTakeover{server: server, store: store, taking: map[string]*mqtt.Client{},
		successor: map[*mqtt.Client]handOff{}, handed: map[*mqtt.Client]map[uint16]bool{}}
	if err := server.AddHook(takeover, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := server.AddHook(&packetIDs{}, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if access == nil {
		err = server.AddHook(new(auth.AllowHook), nil)
	} else {
		err = server.AddHook(new(auth.Hook), &auth.Options{Ledger: access.ledger()})
	}
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	// Door commands only from logins: a broker that admits anyone (the
	// demo's, on loopback) hands none on.
	if access != nil && access.Command != nil {
		h := &commandHook{prefix: access.Prefix + "/doors/", allowed: map[string]bool{}, command: access.Command}
		for _, u := range access.Users {
			if u.Commands {
				h.allowed[u.Username] = true
			}
		}
		if err := server.AddHook(h, nil); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
	}
	b := &Broker{server: server}
	b.tcp = listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr, TLSConfig: tlsConfig})
	if err := server.AddListener(b.tcp); err != nil {
		return nil, fmt.Errorf("broker: listen %s: %w", addr, err)
	}
	if tlsConfig != nil {
		b.local = listeners.NewTCP(listeners.Config{ID: "local", Address: "127.0.0.1:0"})
		if err := server.AddListener(b.local); err != nil {
			server.Close()
			return nil, fmt.Errorf("broker: loopback listener: %w", err)
		}
	}
	if err := server.Serve(); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	return b, nil
}

// Addr is the address the broker listens on, with the real port.
func (b *Broker) Addr() string { return b.tcp.Address() }

// URL is how an MQTT client on this machine reaches the broker: the
// loopback listener when the main one speaks TLS.
func (b *Broker) URL() string {
	if b.local != nil {
		return "tcp://" + b.local.Address()
	}
	return "tcp://" + loopback(b.Addr())
}

// Close stops the broker and disconnects its clients.
func (b *Broker) Close() error { return b.server.Close() }

// Traffic is the bytes the broker has received and sent since it started:
// what a change to the door Pis' cards costs on the wire.
func (b *Broker) Traffic() (received, sent int64) {
	return atomic.LoadInt64(&b.server.Info.BytesReceived), atomic.LoadInt64(&b.server.Info.BytesSent)
}
