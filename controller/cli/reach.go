package cli

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/sitekeys"
)

// reachFlags are how a command reaches the running controller: --url, or
// the http.listen of --config's site (https when it speaks TLS, trusting
// the certificate in its data dir).
type reachFlags struct{ url, config, dataDir *string }

func addReachFlags(fs *flag.FlagSet) reachFlags {
	return reachFlags{
		url:     fs.String("url", "", "the controller's address (default: the config's http.listen)"),
		config:  fs.String("config", DefaultConfig, "site config, to find the controller when --url is not given"),
		dataDir: fs.String("data-dir", "", "data directory (overrides the config's data_dir)"),
	}
}

// reach is the controller's base URL and a client that trusts it.
func (f reachFlags) reach() (string, *http.Client, error) {
	if *f.url != "" {
		return strings.TrimRight(*f.url, "/"), http.DefaultClient, nil
	}
	cfg, err := config.Load(*f.config)
	if err != nil {
		return "", nil, err
	}
	if *f.dataDir != "" {
		cfg.DataDir = *f.dataDir
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		return "", nil, fmt.Errorf("%s: http.listen %q: %w", *f.config, cfg.HTTP.Listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost" // listening on every address: this machine's is one
	}
	t := cfg.HTTP.TLS
	if t == nil {
		return "http://" + net.JoinHostPort(host, port), http.DefaultClient, nil
	}
	certFile := t.CertFile
	if t.SelfSigned {
		certFile = sitekeys.DashboardCertPath(cfg.DataDir)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return "", nil, fmt.Errorf("the dashboard's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return "", nil, fmt.Errorf("%s holds no certificate", certFile)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return "https://" + net.JoinHostPort(host, port), client, nil
}
