package hq_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/mod/sumdb/note"

	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/hq"
	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/testtool"
)

// HQBroker is what a head office's Mosquitto adds to its config: a
// session's queue without Mosquitto's limit of 1,000 (which drops a burst
// head office has not yet taken) and a wider in-flight window.
const HQBroker = "max_queued_messages 0\nmax_inflight_messages 100\n"

// office is a head office for a test: its broker, database, key and the
// plants that report to it.
type office struct {
	t       testing.TB
	broker  *testtool.Mosquitto
	pg      *testtool.Postgres
	dsn     string
	dir     string
	keyFile string
	vkey    string
	ledger  *ledger.Ledger
}

func newOffice(t testing.TB) *office {
	t.Helper()
	o := &office{t: t, broker: testtool.StartMosquittoWith(t, HQBroker), pg: testtool.StartPostgres(t), dir: t.TempDir()}
	o.dsn = o.pg.NewDatabase(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, "hq.example")
	if err != nil {
		t.Fatal(err)
	}
	o.keyFile, o.vkey = filepath.Join(o.dir, "hq.key"), vkey
	if err := os.WriteFile(o.keyFile, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(context.Background(), o.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	o.ledger = l
	return o
}

// plant is one site reporting to head office.
type plant struct {
	*site.Site
	t       testing.TB
	id      string
	base    string
	token   string
	key     ed25519.PrivateKey
	vkey    string
	link    *cuttable
	dataDp  string
	stopped bool
}

// startPlant runs the demo factory as site id, linked to head office
// through a connection the test can cut.
func (o *office) startPlant(id string) *plant {
	o.t.Helper()
	link := newCuttable(o.t, fmt.Sprintf("127.0.0.1:%d", o.broker.Port))
	return o.startPlantIn(id, o.t.TempDir(), link)
}

// Stop stops the plant's controller (once; the test's end stops it
// otherwise).
func (p *plant) Stop() error {
	if p.stopped {
		return nil
	}
	p.stopped = true
	return p.Site.Stop()
}

func (o *office) startPlantIn(id, dir string, link *cuttable) *plant {
	o.t.Helper()
	return o.startPlantWith(id, dir, link, nil)
}

func (o *office) startPlantWith(id, dir string, link *cuttable, tweak func(*config.Config)) *plant {
	t := o.t
	t.Helper()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Site, cfg.Name = id, "Plant "+id
	cfg.MQTT.TopicPrefix = "sekisho/" + id
	cfg.Storage.Origin = "sekisho/" + id
	cfg.Storage.CheckpointEvery = 200 * time.Millisecond
	cfg.Storage.Witnesses = append(cfg.Storage.Witnesses, o.vkey)
	cfg.HQ = &config.HQ{Broker: config.ExternalBroker{URL: "tcp://" + link.addr}, Key: o.vkey}
	if tweak != nil {
		tweak(cfg)
	}
	s, err := site.Start(context.Background(), cfg, site.Options{DataDir: dir, HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0",
		Out: io.Discard, ClockSynced: func() (bool, error) { return true, nil }, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	p := &plant{Site: s, t: t, id: id, base: "http://" + s.HTTPAddr(), link: link, dataDp: dir}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop %s: %v", id, err)
		}
	})
	if p.key, _, err = sitekeys.Log(dir); err != nil {
		t.Fatal(err)
	}
	if _, _, p.vkey, err = logtree.NoteKeys(cfg.Storage.Origin, p.key); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), []string{"token", "create", "--role", "admin", "--db", site.DBPath(dir, id)}, &out, &errOut); code != 0 {
		t.Fatalf("token create: %s", errOut.String())
	}
	p.token = strings.TrimSpace(out.String())
	return p
}

// swipe presents an unknown card at the site's main entrance: one event.
func (p *plant) swipe(number uint64) {
	p.t.Helper()
	b, _ := json.Marshal(map[string]any{"format": "H10301", "facility": 7, "number": number})
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/sim/readers/r-floor-out/wiegand", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+p.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		p.t.Fatalf("swipe at %s: %s", p.id, res.Status)
	}
}

// enrol adds a person at the site: one event, without a reader's timing.
func (p *plant) enrol(name string) {
	p.t.Helper()
	b, _ := json.Marshal(map[string]any{"name": name, "kind": "employee", "company": "Plant " + p.id})
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/people", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+p.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		p.t.Fatalf("enrol at %s: %s", p.id, res.Status)
	}
}

// call sends an admin's request to the plant's API and decodes the answer.
func (p *plant) call(method, path string, body, into any) int {
	p.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, p.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+p.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil {
		_ = json.NewDecoder(res.Body).Decode(into)
	}
	return res.StatusCode
}

// config is hq.yaml for the plants, read as `controller hq run` reads it.
func (o *office) config(plants ...*plant) *hq.Config {
	o.t.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "name: Head office\nlisten: 127.0.0.1:0\npostgres: %s\nkey_file: %s\ngap_wait: 2s\nsilent_after: 1h\nbroker:\n  url: %s\nsites:\n", o.dsn, o.keyFile, o.broker.URL)
	for _, p := range plants {
		fmt.Fprintf(&sb, "  - id: %s\n    key: %s\n    api: %s\n    token: %s\n", p.id, p.vkey, p.base, p.token)
	}
	path := filepath.Join(o.dir, "hq.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		o.t.Fatal(err)
	}
	cfg, err := hq.Load(path)
	if err != nil {
		o.t.Fatal(err)
	}
	return cfg
}

// run starts a head-office process on cfg until the test ends.
func (o *office) run(cfg *hq.Config, clientID string) *hq.Office {
	o.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	h := &hq.Office{Config: cfg, Log: slog.New(slog.NewTextHandler(os.Stderr, nil)).With("hq", clientID), ClientID: clientID}
	go func() { done <- h.Run(ctx) }()
	o.t.Cleanup(func() {
		cancel()
		if err := testtool.Recv(o.t, done, 30*time.Second, "head office to stop"); err != nil {
			o.t.Errorf("head office: %v", err)
		}
	})
	testtool.WaitFor(o.t, 30*time.Second, "head office to hear its broker", h.Ready)
	return h
}

// status is where head office stands with a site.
func (o *office) status(id string) ledger.Site {
	o.t.Helper()
	st, err := o.ledger.SiteStatus(context.Background(), id)
	if err != nil {
		o.t.Fatal(err)
	}
	return st
}

// alarm says whether head office has an open alarm of kind at site.
func (o *office) alarm(id, kind string) bool {
	als, err := o.ledger.OpenAlarms(context.Background())
	if err != nil {
		o.t.Fatal(err)
	}
	for _, a := range als {
		if a.Site == id && a.Kind == kind {
			return true
		}
	}
	return false
}

// publish sends a message on the head-office broker, as anyone there can.
func (o *office) publish(topic string, payload []byte) {
	o.t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(o.broker.URL).SetClientID("intruder-" + o.t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		o.t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		o.t.Fatalf("publish: %v", tok.Error())
	}
}

// cuttable is a TCP connection to the broker the test can cut and mend,
// as a plant's line to head office goes down and comes back.
type cuttable struct {
	addr string
	to   string
	ln   net.Listener
	mu   sync.Mutex
	cut  bool
	open map[net.Conn]bool
}

func newCuttable(t testing.TB, to string) *cuttable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cuttable{addr: ln.Addr().String(), to: to, ln: ln, open: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); c.setCut(true) })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			refused := c.cut
			c.mu.Unlock()
			if refused {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", to)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.open[in], c.open[out] = true, true
			c.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

// setCut cuts the line (every connection closed, new ones refused) or
// mends it.
func (c *cuttable) setCut(cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = cut
	if cut {
		for conn := range c.open {
			conn.Close()
		}
		c.open = map[net.Conn]bool{}
	}
}

// quiet is a plant's log: warnings and worse, on the test's output.
func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
