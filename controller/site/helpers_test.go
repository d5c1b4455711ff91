package site_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
)

// testSite runs the demo factory on a temp dir with fast strikes, on the
// embedded broker or on brokerURL.
type testSite struct {
	*site.Site
	t     *testing.T
	base  string
	token string
	db    string // the database file, for the CLI
}

func startSite(t *testing.T, brokerURL string, tweaks ...func(*config.Config)) *testSite {
	t.Helper()
	if brokerURL != "" {
		tweaks = append(tweaks, func(cfg *config.Config) {
			cfg.MQTT.Embedded = nil
			cfg.MQTT.External = &config.ExternalBroker{URL: brokerURL}
		})
	}
	return startSiteWith(t, nil, tweaks...)
}

// startSiteWith is startSite on the embedded broker, with options changed.
func startSiteWith(t *testing.T, options func(*site.Options), tweaks ...func(*config.Config)) *testSite {
	t.Helper()
	cfg, err := config.Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Doors {
		cfg.Doors[i].Strike.Pulse = 400 * time.Millisecond
	}
	for _, tweak := range tweaks {
		tweak(cfg)
	}
	dir := t.TempDir()
	// The test machine's own clock may well be unsynchronised (a container
	// without NTP): the sites of the tests are told theirs is, unless a test
	// says otherwise.
	opts := site.Options{DataDir: dir, HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0", Out: io.Discard,
		ClockSynced: func() (bool, error) { return true, nil }}
	if options != nil {
		options(&opts)
	}
	s, err := site.Start(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	ts := &testSite{Site: s, t: t, base: "http://" + s.HTTPAddr(), db: site.DBPath(opts.DataDir, cfg.Site)}
	ts.token = adminToken(t, ts.db)
	return ts
}

// adminToken is an admin's API token, made from the command line as an
// installer would make it.
func adminToken(t *testing.T, db string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), []string{"token", "create", "--role", "admin", "--db", db}, &out, &errOut); code != 0 {
		t.Fatalf("token create: %d %s", code, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// call sends a JSON request with the admin token and decodes the answer.
func (ts *testSite) call(method, path string, body, into any) int {
	ts.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ts.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			ts.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return res.StatusCode
}

// refusal sends a request the API should refuse and returns its status and
// the {"error","detail"} it answered with.
func (ts *testSite) refusal(t *testing.T, method, path, body, token string) (int, string, string) {
	t.Helper()
	if token == "" {
		token = ts.token
	}
	req, _ := http.NewRequest(method, ts.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct{ Error, Detail string }
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return res.StatusCode, answer.Error, answer.Detail
}

// addCardholder makes a person with levels and an H10301 card over the API.
func (ts *testSite) addCardholder(name string, levels []string, facility, number uint64) string {
	ts.t.Helper()
	var p struct{ ID string }
	if code := ts.call("POST", "/api/people", map[string]any{"name": name, "kind": "employee", "levels": levels}, &p); code != http.StatusCreated {
		ts.t.Fatalf("create person: %d", code)
	}
	if code := ts.call("POST", "/api/people/"+p.ID+"/credentials", map[string]any{"format": "H10301", "facility": facility, "number": number}, nil); code != http.StatusCreated {
		ts.t.Fatalf("add card: %d", code)
	}
	return p.ID
}

func (ts *testSite) swipe(reader string, facility, number uint64) {
	ts.t.Helper()
	if code := ts.call("POST", "/api/sim/readers/"+reader+"/wiegand", map[string]any{"format": "H10301", "facility": facility, "number": number}, nil); code != http.StatusAccepted {
		ts.t.Fatalf("swipe: %d", code)
	}
}

// subscribe collects events published on the site's events topic.
func subscribe(t *testing.T, brokerURL, topic string) <-chan event.Event {
	t.Helper()
	ch := make(chan event.Event, 256)
	opts := paho.NewClientOptions().AddBroker(brokerURL).SetClientID("test-" + t.Name())
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		var ev event.Event
		if err := json.Unmarshal(m.Payload(), &ev); err == nil {
			ch <- ev
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt subscribe: %v", tok.Error())
	}
	return ch
}

// stream collects events from the SSE endpoint.
func (ts *testSite) stream() <-chan event.Event {
	ts.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ts.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.base+"/api/stream?backlog=0", nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		ts.t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan event.Event, 256)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev event.Event
				if json.Unmarshal([]byte(data), &ev) == nil {
					ch <- ev
				}
			}
		}
	}()
	return ch
}

type eventT = event.Event

// await returns the first event from ch that match accepts.
func await(t *testing.T, ch <-chan event.Event, what string, match func(event.Event) bool) event.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-ch:
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s arrived", what)
		}
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
