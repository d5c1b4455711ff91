package cli

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"os"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// bridgeEnroll makes a door Pi's keys, records its public half in the data
// dir, and writes the enrolment file the door Pi runs with.
func bridgeEnroll(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge enroll", stderr)
	cfgPath := fs.String("config", DefaultConfig, "site config file")
	dataDir := fs.String("data-dir", "", "data directory (overrides the config's data_dir)")
	out := fs.String("out", "", "where to write the enrolment file (0600)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return fmt.Errorf("%w: bridge enroll takes one door Pi id and --out FILE", errUsage)
	}
	id := pos[0]
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if _, ok := cfg.Bridges()[id]; !ok {
		var known []string
		for b := range cfg.Bridges() {
			known = append(known, b)
		}
		return fmt.Errorf("%s names no door with bridge: %s (door Pis in it: %v)", *cfgPath, id, known)
	}
	key, err := sitekeys.Controller(cfg.DataDir)
	if err != nil {
		return err
	}
	e, err := remote.NewEnrolment(id, cfg.Site, cfg.MQTT.TopicPrefix, key.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	if em := cfg.MQTT.Embedded; em != nil && em.TLS != nil {
		var certPEM []byte
		if em.TLS.SelfSigned {
			certPEM, _, _, err = sitekeys.BrokerCert(cfg.DataDir, em.TLS.Hosts)
		} else {
			certPEM, err = os.ReadFile(em.TLS.CertFile)
		}
		if err != nil {
			return fmt.Errorf("the broker's certificate for the enrolment: %w", err)
		}
		e.BrokerCA = string(certPEM)
	}
	if err := e.Write(*out); err != nil {
		return err
	}
	if err := sitekeys.SaveBridge(cfg.DataDir, id, e.BoxPublic); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enrolled door Pi %s: %s (keep it on that Pi alone, mode 0600)\n", id, *out)
	fmt.Fprintf(stdout, "controller key fingerprint: %s\n", sitekeys.Fingerprint(e.ControllerKey))
	if e.BrokerCA != "" {
		fmt.Fprintf(stdout, "broker certificate SHA-256: %s\n", sitekeys.CertFingerprint([]byte(e.BrokerCA)))
	}
	fmt.Fprintln(stdout, "a running controller seals the next cards it sends to the new key")
	return nil
}
