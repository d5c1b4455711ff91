// Package hq is Sekisho's head office: it hears every plant's log over a
// head-office MQTT broker, keeps it in PostgreSQL checked event by event
// and against each plant's signed checkpoints, countersigns the
// checkpoints it can vouch for and sends them back. Each site stays the
// source of truth and keeps working without head office.
package hq

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// Config is hq.yaml.
type Config struct {
	File string `yaml:"-"`
	// Name is the head office's name on its pages.
	Name string `yaml:"name"`
	// Listen is where head office's pages are served (127.0.0.1:8090);
	// anywhere but this machine needs TLS.
	Listen string `yaml:"listen"`
	TLS    *TLS   `yaml:"tls"`
	// Postgres is the database's DSN (postgres://user@host/db?sslmode=…).
	Postgres string `yaml:"postgres"`
	// Broker is the head-office MQTT broker the sites publish to.
	Broker Broker `yaml:"broker"`
	// KeyFile holds head office's signing key (a note signer key, made by
	// `controller hq key`): its countersignatures.
	KeyFile string `yaml:"key_file"`
	// SilentAfter: a site heard from for this long is an alarm (15m).
	SilentAfter time.Duration `yaml:"silent_after"`
	// GapWait: events missing this long are asked of the site's API when
	// it has one, and are an alarm (30s).
	GapWait time.Duration `yaml:"gap_wait"`
	Sites   []Site        `yaml:"sites"`
}

// TLS is the pages' certificate.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Broker is the head-office broker and head office's own login there.
type Broker struct {
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	CA       string `yaml:"ca_file"`
}

// Link is the broker as the MQTT clients take it.
func (b Broker) Link() mqttlink.Broker {
	return mqttlink.Broker{URL: b.URL, Username: b.Username, Password: b.Password, CAFile: b.CA}
}

// Site is one plant head office hears.
type Site struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Key is the site's log verifier key as `controller checkpoints key`
	// prints it (sekisho/<site>+<id>+<key>): its checkpoints, both kinds,
	// are checked with it.
	Key string `yaml:"key"`
	// Prefix is the site's MQTT topic prefix (sekisho/<id>).
	Prefix string `yaml:"prefix"`
	// API and Token, when set, let head office fill a gap from the site's
	// API (a manager's token: GET /api/events).
	API   string `yaml:"api"`
	Token string `yaml:"token"`

	verifier note.Verifier
	pub      ed25519.PublicKey
}

// Verifier checks the site's C2SP checkpoints.
func (s Site) Verifier() note.Verifier { return s.verifier }

// PublicKey checks the site's chain checkpoints.
func (s Site) PublicKey() ed25519.PublicKey { return s.pub }

// Load reads and checks hq.yaml: every mistake at once, with file, line
// and key.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hq: %w", err)
	}
	return Parse(path, data)
}

// Parse checks hq.yaml's text; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	cfg := &Config{File: file}
	if err := config.Decode(file, data, cfg, cfg.check); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) check(k config.Checker) {
	if c.Postgres == "" {
		k.At([]any{"postgres"}, "required: the head office's PostgreSQL, as postgres://user@host/database")
	} else if u, err := url.Parse(c.Postgres); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		k.At([]any{"postgres"}, "want a postgres:// URL")
	}
	if c.Broker.URL == "" {
		k.At([]any{"broker", "url"}, "required: the head-office broker, as tcp://host:1883 or tls://host:8883")
	} else if u, err := url.Parse(c.Broker.URL); err != nil || !strings.Contains("tcp tls ssl mqtts mqtt", u.Scheme) || u.Host == "" {
		k.At([]any{"broker", "url"}, "%q: want tcp://host:port or tls://host:port", c.Broker.URL)
	}
	if c.KeyFile == "" {
		k.At([]any{"key_file"}, "required: where head office's signing key is kept (`controller hq key` makes it)")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8090"
	}
	var tls *config.TLS
	if c.TLS != nil {
		tls = &config.TLS{CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile}
		if c.TLS.CertFile == "" || c.TLS.KeyFile == "" {
			k.At([]any{"tls"}, "cert_file and key_file are both needed")
		}
	}
	if err := config.CheckHTTPExposure(c.Listen, tls); err != nil {
		k.At([]any{"listen"}, "%v", err)
	}
	if c.SilentAfter == 0 {
		c.SilentAfter = 15 * time.Minute
	}
	if c.GapWait == 0 {
		c.GapWait = 30 * time.Second
	}
	if len(c.Sites) == 0 {
		k.At([]any{"sites"}, "required: at least one site")
	}
	seen := map[string]bool{}
	for i := range c.Sites {
		s := &c.Sites[i]
		at := func(key string) []any { return []any{"sites", i, key} }
		switch {
		case s.ID == "":
			k.At(at("id"), "required")
		case seen[s.ID]:
			k.At(at("id"), "%q is named twice", s.ID)
		case strings.ContainsAny(s.ID, "/+# "):
			k.At(at("id"), "%q: no /, +, # or spaces (it is part of MQTT topics)", s.ID)
		}
		seen[s.ID] = true
		if s.Prefix == "" {
			s.Prefix = "sekisho/" + s.ID
		}
		if s.Name == "" {
			s.Name = s.ID
		}
		if s.Key == "" {
			k.At(at("key"), "required: the site's verifier key (`controller checkpoints key` at the site)")
		} else if v, pub, err := siteKey(s.Key); err != nil {
			k.At(at("key"), "%v", err)
		} else {
			s.verifier, s.pub = v, pub
		}
		if s.API != "" {
			if u, err := url.Parse(s.API); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				k.At(at("api"), "%q: want the site's dashboard URL, https://host:port", s.API)
			} else if s.Token == "" {
				k.At(at("token"), "required with api: a manager's token from the site (`controller token create --role manager`)")
			}
		}
	}
}

// siteKey reads a site's note verifier key: Ed25519, whose key also
// checks the site's chain checkpoints.
func siteKey(vkey string) (note.Verifier, ed25519.PublicKey, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("not a verifier key (want name+id+key, as `controller checkpoints key` prints): %v", err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
		return nil, nil, fmt.Errorf("not an Ed25519 verifier key")
	}
	return v, ed25519.PublicKey(raw[1:]), nil
}
