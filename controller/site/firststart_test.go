package site_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/store"
)

// The first start's passwords are printed once the site is up: a start that
// fails (its port taken) prints none and keeps no account; the next good
// start makes and prints them; a start after that prints none.
func TestFirstStartPasswordsOnlyOnceUp(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	start := func(listen string) (*site.Site, error) {
		c := *cfg
		return site.Start(context.Background(), &c, site.Options{DataDir: dir, HTTPListen: listen, MQTTListen: "127.0.0.1:0", Out: &out})
	}
	if s, err := start(taken.Addr().String()); err == nil {
		s.Stop()
		t.Fatal("a start on a taken port went through")
	}
	taken.Close()
	if strings.Contains(out.String(), "First start") {
		t.Fatalf("a failed start printed passwords:\n%s", out.String())
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, cfg.Site+".db"), cfg.Site)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := st.CountUsers(context.Background())
	st.Close()
	if n != 0 {
		t.Fatalf("a failed start kept %d accounts", n)
	}

	out.Reset()
	s, err := start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "First start") || !strings.Contains(out.String(), "admin") {
		t.Fatalf("the first good start printed:\n%s", out.String())
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if s, err = start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if strings.Contains(out.String(), "First start") {
		t.Fatalf("a later start printed passwords again:\n%s", out.String())
	}
}

// The CLI finds the running site from its config: sim swipe --config
// reaches the controller at the config's http.listen, no --url needed.
func TestCLIFindsTheSiteFromItsConfig(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	live := ts.stream()
	b, err := os.ReadFile("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "site.yaml")
	moved := strings.Replace(string(b), `listen: "127.0.0.1:8080"`, `listen: "`+ts.HTTPAddr()+`"`, 1)
	if err := os.WriteFile(cfgFile, []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), []string{"sim", "swipe", "--config", cfgFile, "--reader", "r-floor-out", "--facility", "12", "--number", "345"}, &out, &errOut); code != 0 {
		t.Fatalf("sim swipe --config: %d %s", code, errOut.String())
	}
	await(t, live, "the swipe from the CLI", func(ev event.Event) bool { return ev.Type == event.AccessGranted && ev.Door == "floor-door" })
}
