package site

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sekisho/sekisho/controller/broker"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/store"
)

// brokerTLS is the embedded broker's certificate, if it speaks TLS.
func (s *Site) brokerTLS(e *config.EmbeddedBroker, out io.Writer) (*tls.Config, error) {
	return s.listenerTLS("mqtt.embedded.tls", "MQTT broker", e.TLS, sitekeys.BrokerCert, out,
		"Door Pis get it in their enrolment file (controller bridge enroll).")
}

// listenerTLS loads a listener's certificate from its files, or makes one
// at first start (self_signed) and prints its fingerprint to compare.
func (s *Site) listenerTLS(key, what string, t *config.TLS, make func(string, []string) ([]byte, []byte, bool, error), out io.Writer, hint string) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	var certPEM, keyPEM []byte
	var err error
	if t.SelfSigned {
		var created bool
		certPEM, keyPEM, created, err = make(s.Config.DataDir, t.Hosts)
		if err != nil {
			return nil, err
		}
		if created {
			fmt.Fprintf(out, "%s: made a self-signed TLS certificate, SHA-256 fingerprint\n  %s\n%s\n", what, sitekeys.CertFingerprint(certPEM), hint)
		}
	} else {
		if certPEM, err = os.ReadFile(t.CertFile); err != nil {
			return nil, fmt.Errorf("site: %s.cert_file: %w", key, err)
		}
		if keyPEM, err = os.ReadFile(t.KeyFile); err != nil {
			return nil, fmt.Errorf("site: %s.key_file: %w", key, err)
		}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("site: %s: %w", key, err)
	}
	s.log.Info(what+" speaks TLS", "sha256", sitekeys.CertFingerprint(certPEM))
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// startBroker starts the embedded MQTT broker, when the config has one, and
// says how the site's own clients reach the broker.
func (s *Site) startBroker(out io.Writer) (brokerURL outbox.Broker, err error) {
	if e := s.Config.MQTT.Embedded; e != nil {
		var access *broker.Access
		self := broker.User{Username: "sekisho-controller"}
		if len(e.Users) > 0 {
			// The controller's own login lives only in this process.
			self.Password = store.NewSecret(24)
			access = &broker.Access{Prefix: s.Config.MQTT.TopicPrefix, Controller: self, DiscoveryPrefix: s.Config.MQTT.DiscoveryPrefix,
				Command: s.heardCommand}
			bridges := s.Config.Bridges()
			for _, u := range e.Users {
				_, isBridge := bridges[u.Username]
				bu := broker.User{Username: u.Username, Password: u.Password, Bridge: isBridge, Commands: u.HomeAssistant}
				if u.Frigate {
					bu.Writes = []string{s.Config.Frigate.TopicRoot() + "/#"}
				}
				access.Users = append(access.Users, bu)
			}
		}
		// The --mqtt-listen override is held to the config's rule.
		if err := config.CheckBrokerExposure(e.Listen, len(e.Users)); err != nil {
			return brokerURL, fmt.Errorf("site: mqtt.embedded.listen: %w", err)
		}
		tlsConfig, err := s.brokerTLS(e, out)
		if err != nil {
			return brokerURL, err
		}
		b, err := broker.Start(e.Listen, access, tlsConfig, filepath.Join(s.Config.DataDir, "mqtt-sessions.db"), s.log)
		if err != nil {
			return brokerURL, err
		}
		// Closed in Wait, after the outbox has said offline through it.
		s.broker = b
		brokerURL = outbox.Broker{URL: b.URL(), Username: self.Username, Password: self.Password}
		s.log.Info("embedded MQTT broker listening", "addr", b.Addr())
	} else {
		e := s.Config.MQTT.External
		brokerURL = outbox.Broker{URL: e.URL, Username: e.Username, Password: e.Password, CAFile: e.CAFile}
	}
	return brokerURL, nil
}

// serveHTTP serves the dashboard and API until ctx ends. Every request is
// answered or ended before it returns, and so before the log closes: a
// late audit must find the journal open.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case <-ctx.Done():
	}
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := srv.Shutdown(shut); err != nil {
		log.Warn("requests still open at stop; closed", "err", err)
		srv.Close()
	}
	<-served
	return nil
}
