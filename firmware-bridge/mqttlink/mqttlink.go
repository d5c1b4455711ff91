// Package mqttlink is Sekisho's one way onto MQTT: the broker's address,
// login and certificate, the client options every part shares (the
// controller's outbox, its Frigate subscriber and door-Pi links, and the door
// Pi itself), and the site's topic names. A change here reaches all of them.
package mqttlink

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Broker is where a client connects and how it proves itself.
type Broker struct {
	URL      string // tcp://host:1883, or tls:// / ssl:// / mqtts:// for TLS
	Username string
	Password string
	// CAFile is a PEM file of the certificate authority (or the broker's own
	// self-signed certificate) the broker's certificate must chain to.
	CAFile string
	// CAPEM is the same, carried in memory (a door Pi's enrolment file).
	CAPEM []byte
}

// Retry is how quickly a client tries again after losing its broker.
type Retry struct {
	First, Most time.Duration
}

// Door-side clients come back within a couple of seconds: a door waits on
// them. The log's publisher can afford to back off further.
var (
	RetryDoor = Retry{First: 500 * time.Millisecond, Most: 2 * time.Second}
	RetryLog  = Retry{First: time.Second, Most: 10 * time.Second}
)

// ClientOptions are a reconnecting paho client's options: login, broker
// certificate check, clean session and no resend store (Sekisho's outboxes
// resend; see NoStore). Callers add their will and handlers.
func (b Broker) ClientOptions(clientID string, retry Retry) (*paho.ClientOptions, error) {
	opts := paho.NewClientOptions().
		AddBroker(b.URL).
		SetClientID(clientID).
		SetUsername(b.Username).
		SetPassword(b.Password).
		SetCleanSession(true).
		SetStore(NoStore{}).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(retry.First).
		SetMaxReconnectInterval(retry.Most)
	tlsConfig, err := b.TLSConfig()
	if err != nil {
		return nil, err
	}
	if tlsConfig != nil {
		opts.SetTLSConfig(tlsConfig)
	}
	return opts, nil
}

// TLSConfig is the check of the broker's certificate: nil when no CA is
// given (the system's roots then apply to a tls:// URL).
func (b Broker) TLSConfig() (*tls.Config, error) {
	pem := b.CAPEM
	if b.CAFile != "" {
		var err error
		if pem, err = os.ReadFile(b.CAFile); err != nil {
			return nil, fmt.Errorf("mqtt: ca_file: %w", err)
		}
	}
	if len(pem) == 0 {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("mqtt: the broker's CA (%s) holds no PEM certificate", orMemory(b.CAFile))
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

func orMemory(file string) string {
	if file == "" {
		return "enrolment"
	}
	return file
}

// Topics under a site's prefix, e.g. sekisho/hamamatsu-press.
type Topics struct{ Prefix string }

func (t Topics) Events() string        { return t.Prefix + "/events" }
func (t Topics) Alarms() string        { return t.Prefix + "/alarms" }
func (t Topics) Status() string        { return t.Prefix + "/status" }
func (t Topics) Storage() string       { return t.Prefix + "/storage" }     // retained: is the log being written
func (t Topics) Checkpoints() string   { return t.Prefix + "/checkpoints" } // retained: the newest signed checkpoint
func (t Topics) Door(id string) string { return t.Prefix + "/doors/" + id + "/state" }
func (t Topics) Zone(id string) string { return t.Prefix + "/zones/" + id + "/occupancy" }

// DoorCommand is where Home Assistant's lock entity sends LOCK or UNLOCK.
func (t Topics) DoorCommand(id string) string { return t.Prefix + "/doors/" + id + "/command" }

// DoorSwipe carries each decision at a door, for Home Assistant's event entity.
func (t Topics) DoorSwipe(id string) string { return t.Prefix + "/doors/" + id + "/swipe" }

// OpenAlarms is the count of open alarms by kind, retained.
func (t Topics) OpenAlarms() string { return t.Prefix + "/alarms/open" }

// Cosignature is where head office sends back its countersignature of the
// site's newest checkpoint (a signed note), for the site to keep.
func (t Topics) Cosignature() string { return t.Prefix + "/hq/cosignature" }

func (t Topics) Bridges() string { return t.Prefix + "/bridges/#" }
func (t Topics) Bridge(id, leaf string) string {
	return t.Prefix + "/bridges/" + id + "/" + leaf
}

// A door Pi's topics, the leaf under <prefix>/bridges/<id>/.
const (
	LeafSignals  = "signals"  // door Pi → controller: envelopes
	LeafCommands = "commands" // controller → door Pi: signed commands
	LeafSnapshot = "snapshot" // no longer used: was the whole snapshot, retained; cleared at start
	LeafCards    = "cards"    // controller → door Pi: signed, encrypted snapshots and deltas, not retained
	LeafHeld     = "held"     // door Pi → controller: the card version it holds, retained
	LeafLink     = "link"     // controller: up/down, retained, with its will
	LeafStatus   = "status"   // door Pi: online/offline, retained, with its will
)
