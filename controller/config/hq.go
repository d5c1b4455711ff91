package config

import (
	"net/url"
	"slices"

	tnote "github.com/transparency-dev/formats/note"
)

// HQ is the site's link to its company's head office: a copy of the log,
// its alarms and its checkpoints published to the head-office broker, and
// head office's countersignatures taken back. The site keeps working
// without it; what head office missed goes out when the link is back.
type HQ struct {
	// Broker is the head-office broker and this site's login there; none
	// when the site's own Mosquitto bridges to head office.
	Broker ExternalBroker `yaml:"broker"`
	// Key is head office's verifier key (as `controller hq key` prints it):
	// its countersignatures of this site's checkpoints are kept.
	Key string `yaml:"key"`
}

// hq checks the head-office link; head office's key becomes one of the
// log's witnesses.
func (c *checker) hq(cfg *Config) {
	h := cfg.HQ
	if h == nil {
		return
	}
	// No broker: the site's Mosquitto bridges its topics to head office
	// (configs/mosquitto/bridge-to-hq.conf) and head office's back in.
	if h.Broker.URL != "" {
		if u, err := url.Parse(h.Broker.URL); err != nil || u.Host == "" || !slices.Contains([]string{"tcp", "mqtt", "tls", "ssl", "mqtts"}, u.Scheme) {
			c.at(path{"hq", "broker", "url"}, "%q: want tcp://host:port or tls://host:port", h.Broker.URL)
		}
	}
	if h.Key == "" {
		c.at(path{"hq", "key"}, "required: head office's verifier key (`controller hq key` at head office)")
		return
	}
	if _, err := tnote.NewVerifierForCosignatureV1(h.Key); err != nil {
		c.at(path{"hq", "key"}, "%q is not a verifier key: %v", h.Key, err)
		return
	}
	if !slices.Contains(cfg.Storage.Witnesses, h.Key) {
		cfg.Storage.Witnesses = append(cfg.Storage.Witnesses, h.Key)
	}
}
