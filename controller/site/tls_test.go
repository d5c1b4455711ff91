package site_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
)

// The embedded broker speaks TLS with a certificate it made at first start.
// The door Pi checks it against the one in its enrolment and works; a
// client that only trusts the usual roots is refused the connection.
func TestDoorPiOverTLSChecksTheBrokersCertificate(t *testing.T) {
	t.Parallel()
	ts, e := startSiteWithDoorPi(t, "", onDoorPi, func(cfg *config.Config) {
		cfg.MQTT.Embedded.TLS = &config.TLS{SelfSigned: true}
		cfg.MQTT.Embedded.Users = []config.BrokerUser{{Username: "door-pi-1", Password: attackLogins["door-pi-1"]}}
	})
	certPEM, err := os.ReadFile(filepath.Join(sitekeys.Dir(ts.Config.DataDir), "broker-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	e.BrokerCA = string(certPEM)
	url := "tls://" + ts.BrokerAddr()

	stranger := mqttlink.Broker{URL: url, Username: "door-pi-1", Password: attackLogins["door-pi-1"]}
	opts, err := stranger.ClientOptions("probe-"+store.NewSecret(4), mqttlink.RetryDoor)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(opts.SetConnectRetry(false).SetAutoReconnect(false))
	if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		c.Disconnect(10)
		t.Fatal("a client without the broker's certificate connected")
	}

	ts.addCardholder("Remote Operator", []string{"press-operators"}, 50, 1)
	live := ts.stream()
	pi := startDaemon(t, ts, e, url, func(d *remote.Daemon) {
		d.Broker.Username, d.Broker.Password = "door-pi-1", attackLogins["door-pi-1"]
	})
	pi.swipe(t, 50, 1)
	ev := await(t, live, "a grant over TLS", func(ev event.Event) bool { return ev.Type == event.AccessGranted && ev.Door == "press-door" })
	if ev.DecidedBy != "" {
		t.Fatalf("decided by %q: the link did not come up", ev.DecidedBy)
	}
}

// The dashboard over HTTPS with a certificate made at first start: the
// session cookie is Secure, browsers are told to stay on HTTPS, and plain
// HTTP gets nothing.
func TestDashboardOverHTTPS(t *testing.T) {
	t.Parallel()
	ts := startSiteWith(t, nil, func(cfg *config.Config) { cfg.HTTP.TLS = &config.TLS{SelfSigned: true} })
	if !ts.HTTPSOn() {
		t.Fatal("HTTPS is not on")
	}
	pemCert, err := os.ReadFile(sitekeys.DashboardCertPath(ts.Config.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemCert)
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	base := "https://localhost:" + ts.HTTPAddr()[strings.LastIndexByte(ts.HTTPAddr(), ':')+1:]
	if err := ts.Store.CreateUser(context.Background(), "ito", "guard", nil, "over-tls-2026"); err != nil {
		t.Fatal(err)
	}
	res, err := client.PostForm(base+"/login", url.Values{"name": {"ito"}, "password": {"over-tls-2026"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookie := res.Header.Get("Set-Cookie")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(cookie, "Secure") || !strings.Contains(cookie, "HttpOnly") {
		t.Fatalf("login over HTTPS: %d %q", res.StatusCode, cookie)
	}
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Fatalf("no HSTS: %q", hsts)
	}
	if res, err := http.Get("http://" + ts.HTTPAddr() + "/api/health"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP answered on the HTTPS port")
		}
	}
}
