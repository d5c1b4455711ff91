package hq

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	tnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/hqcommand"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// Office is a running head office.
type Office struct {
	Config *Config
	Log    *slog.Logger
	// ClientID is head office's MQTT client id: its session on the broker
	// is kept across restarts (sekisho-hq-<host>). Two head offices on one
	// broker need two.
	ClientID string

	ledger *ledger.Ledger
	signer note.Signer
	key    ed25519.PrivateKey // signs revocations
	feeds  map[string]*feed   // by topic
	acks   map[string]*feed   // by the prefix of its acknowledgements' topics
	client paho.Client

	mu     sync.Mutex
	ready  bool
	online map[string]bool           // site → its retained status says online
	counts map[string]map[string]int // site → zone → head count, as last published
	addr   string
}

// Addr is where head office's pages listen, once Run has started them.
func (o *Office) Addr() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.addr
}

func (o *Office) linkUp(site string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.online[site]
}

func (o *Office) zones(site string) map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for z, n := range o.counts[site] {
		out[z] = n
	}
	return out
}

// status keeps a site's retained status and head counts: memory only,
// on the MQTT client's goroutine.
func (o *Office) status(f *feed, topic string, payload []byte) bool {
	rest, ok := strings.CutPrefix(topic, f.site.Prefix+"/")
	if !ok {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case rest == "status":
		o.online[f.site.ID] = string(payload) == "online"
	case strings.HasPrefix(rest, "zones/") && strings.HasSuffix(rest, "/occupancy"):
		var c struct {
			Count int `json:"count"`
		}
		if json.Unmarshal(payload, &c) != nil || c.Count < 0 {
			return true
		}
		zone := strings.TrimSuffix(strings.TrimPrefix(rest, "zones/"), "/occupancy")
		if o.counts[f.site.ID] == nil {
			o.counts[f.site.ID] = map[string]int{}
		}
		o.counts[f.site.ID][zone] = c.Count
	default:
		return false
	}
	return true
}

// gather is how long a worker waits for more events before it writes
// the ones it has: one transaction a run, not one an event.
const gather = 20 * time.Millisecond

// message is one MQTT message for a site's worker.
type message struct {
	kind    int // what it is: one of the kinds below
	payload []byte
}

// Kinds of message from a site.
const (
	kindEvent = iota
	kindCheckpoint
	kindAck
)

// feed is one site's messages, handled in order by its own worker.
type feed struct {
	site Site
	in   chan message
	// note is a tree checkpoint that was beyond the events held when it
	// came: held to them again once they arrive.
	note []byte
}

// Signer reads head office's signing key from its file.
func Signer(path string) (note.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hq: signing key: %w (make it with `controller hq key`)", err)
	}
	s, err := tnote.NewSignerForCosignatureV1(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("hq: signing key %s: %w", path, err)
	}
	return s, nil
}

// Ready says whether head office is connected to its broker and database.
func (o *Office) Ready() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ready
}

// Ledger is the database head office keeps (nil before Run has opened it).
func (o *Office) Ledger() *ledger.Ledger { return o.ledger }

// Run hears the sites until ctx ends.
func (o *Office) Run(ctx context.Context) error {
	cfg := o.Config
	signer, err := Signer(cfg.KeyFile)
	if err != nil {
		return err
	}
	o.signer = signer
	skey, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		return err
	}
	if o.key, _, err = hqcommand.PrivateKey(string(skey)); err != nil {
		return err
	}
	l, err := ledger.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer l.Close()
	o.ledger = l
	if o.ClientID == "" {
		host, _ := os.Hostname()
		o.ClientID = "sekisho-hq-" + host
	}
	o.feeds, o.acks = map[string]*feed{}, map[string]*feed{}
	o.online, o.counts = map[string]bool{}, map[string]map[string]int{}
	bySite := map[string]*feed{}
	var feeds []*feed
	for _, s := range cfg.Sites {
		f := &feed{site: s, in: make(chan message, 4096)}
		feeds = append(feeds, f)
		t := mqttlink.Topics{Prefix: s.Prefix}
		o.feeds[t.Events()] = f
		o.feeds[t.Checkpoints()] = f
		o.acks[s.Prefix+"/hq/acks/"] = f
		bySite[s.Prefix] = f
	}
	opts, err := cfg.Broker.Link().ClientOptions(o.ClientID, mqttlink.RetryLog)
	if err != nil {
		return err
	}
	// A kept session: what the sites published while head office was away
	// waits for it on the broker.
	opts.SetCleanSession(false).SetOrderMatters(true).SetDefaultPublishHandler(o.heard(ctx, bySite))
	resend := make(chan struct{}, 1)
	opts.SetOnConnectHandler(func(c paho.Client) {
		filters := map[string]byte{}
		for topic := range o.feeds {
			filters[topic] = 1
		}
		for prefix := range o.acks {
			filters[prefix+"+"] = 1
		}
		for prefix := range bySite {
			filters[prefix+"/status"] = 1
			filters[prefix+"/zones/+/occupancy"] = 1
		}
		// No handler per filter: paho would match every message against
		// each of them; the default handler routes by prefix once.
		c.SubscribeMultiple(filters, nil)
		o.Log.Info("head office hears its sites", "broker", cfg.Broker.URL, "sites", len(cfg.Sites))
		o.mu.Lock()
		o.ready = true
		o.mu.Unlock()
		// Revocations a plant has not acknowledged are sent again: a
		// broker restarted without its retained messages forgot them.
		select {
		case resend <- struct{}{}:
		default:
		}
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		o.mu.Lock()
		o.ready = false
		o.mu.Unlock()
		o.Log.Warn("head-office broker lost", "err", err)
	})
	o.client = paho.NewClient(opts)
	o.client.Connect()
	defer o.client.Disconnect(500)
	var wg sync.WaitGroup
	srv, err := o.serve(ctx, &wg)
	if err != nil {
		return err
	}
	for _, f := range feeds {
		wg.Add(1)
		go func() { defer wg.Done(); o.work(ctx, f) }()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-resend:
				o.resend(ctx)
			}
		}
	}()
	<-ctx.Done()
	srv.Close()
	wg.Wait()
	return nil
}

// heard hands each message to its site's worker, in order. It waits when
// a worker is behind: the broker keeps the rest in head office's session.
func (o *Office) heard(ctx context.Context, bySite map[string]*feed) paho.MessageHandler {
	return func(_ paho.Client, m paho.Message) {
		for prefix, f := range bySite {
			if strings.HasPrefix(m.Topic(), prefix+"/") && o.status(f, m.Topic(), m.Payload()) {
				return
			}
		}
		msg := message{kind: kindEvent, payload: m.Payload()}
		f := o.feeds[m.Topic()]
		if strings.HasSuffix(m.Topic(), "/checkpoints") {
			msg.kind = kindCheckpoint
		}
		if i := strings.LastIndex(m.Topic(), "/"); f == nil && i >= 0 {
			f, msg.kind = o.acks[m.Topic()[:i+1]], kindAck
		}
		if f == nil {
			return
		}
		select {
		case f.in <- msg:
		case <-ctx.Done():
		}
	}
}

// work takes one site's messages: events in batches, each checkpoint
// after the events before it; a gap or silence is looked at every second.
func (o *Office) work(ctx context.Context, f *feed) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var batch []ledger.Incoming
	var due <-chan time.Time
	lastHeard := time.Time{}
	flush := func() {
		if len(batch) == 0 {
			return
		}
		o.offer(ctx, f, batch)
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-due:
			flush()
			due = nil
		case <-tick.C:
			flush()
			o.watch(ctx, f)
		case m := <-f.in:
			if now := time.Now(); now.Sub(lastHeard) > time.Second {
				lastHeard = now
				if err := o.ledger.Heard(ctx, f.site.ID, now); err != nil {
					o.Log.Warn("head office: site heard", "site", f.site.ID, "err", err)
				}
				o.clear(ctx, f.site.ID, ledger.AlarmSilent)
			}
			switch m.kind {
			case kindCheckpoint:
				flush()
				o.checkpoint(ctx, f, m.payload)
				continue
			case kindAck:
				o.acknowledged(ctx, f, m.payload)
				continue
			}
			in, err := ParseEvent(m.payload)
			if err == nil && in.Event.Site != f.site.ID {
				err = fmt.Errorf("an event of site %q on %s's topic: %w", in.Event.Site, f.site.ID, ErrBadMessage)
			}
			if err != nil {
				o.Log.Warn("head office: a message refused", "site", f.site.ID, "err", err)
				o.raise(ctx, f.site.ID, ledger.AlarmRefused, "a message in the site's name that is not one of its events: "+err.Error())
				continue
			}
			batch = append(batch, in)
			// A run of events goes in one transaction: gathered for a
			// moment, as the site's outbox gathers its reads.
			if len(batch) >= 1000 {
				flush()
				due = nil
			} else if due == nil {
				due = time.After(gather)
			}
		}
	}
}

func (o *Office) offer(ctx context.Context, f *feed, evs []ledger.Incoming) {
	res, err := o.ledger.Offer(ctx, f.site.ID, evs)
	if err != nil {
		if ctx.Err() == nil {
			o.Log.Error("head office: events not kept", "site", f.site.ID, "err", err)
		}
		return
	}
	if res.Refused > 0 {
		o.raise(ctx, f.site.ID, ledger.AlarmRefused, fmt.Sprintf("%d events in the site's name do not hash or contradict what it signed", res.Refused))
	}
	// New events may extend the chain to a checkpoint that came before
	// them (a plant publishes its checkpoint at once, its events a moment
	// later), or complete the claims one needs to choose between.
	if res.Added > 0 || res.Held > 0 {
		o.retry(ctx, f)
	}
}

// retry holds the checkpoints that waited for events to them again.
func (o *Office) retry(ctx context.Context, f *feed) {
	if seq, hash, at, ok, err := o.ledger.Pending(ctx, f.site.ID); err == nil && ok {
		o.confirm(ctx, f, seq, hash, at, nil)
	}
	if f.note != nil {
		n := f.note
		f.note = nil
		o.witness(ctx, f, n)
	}
}

func (o *Office) raise(ctx context.Context, site, kind, detail string) {
	opened, err := o.ledger.Raise(ctx, site, kind, detail)
	if err != nil {
		o.Log.Error("head office: alarm not kept", "site", site, "kind", kind, "err", err)
		return
	}
	if opened {
		o.Log.Warn("head office alarm", "site", site, "kind", kind, "detail", detail)
	}
}

func (o *Office) clear(ctx context.Context, site, kind string) {
	if err := o.ledger.Clear(ctx, site, kind); err != nil && ctx.Err() == nil {
		o.Log.Warn("head office: alarm not cleared", "site", site, "kind", kind, "err", err)
	}
}

// ErrNotSigned marks a checkpoint the site's key did not sign.
var ErrNotSigned = errors.New("not signed by the site's key")

// VerifierKey is the verifier key of head office's signing key file: what
// each site names as hq.key (and a witness of its checkpoints).
func VerifierKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("hq: signing key: %w", err)
	}
	parts := strings.SplitN(strings.TrimSpace(string(b)), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", fmt.Errorf("hq: signing key %s: not a note signer key", path)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return "", fmt.Errorf("hq: signing key %s: not an Ed25519 key", path)
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// serve starts head office's pages on the config's listen address.
func (o *Office) serve(ctx context.Context, wg *sync.WaitGroup) (*http.Server, error) {
	ln, err := net.Listen("tcp", o.Config.Listen)
	if err != nil {
		return nil, fmt.Errorf("hq: listen %s: %w", o.Config.Listen, err)
	}
	o.mu.Lock()
	o.addr = ln.Addr().String()
	o.mu.Unlock()
	w := &web{o: o, failed: map[string][]time.Time{}}
	srv := &http.Server{Handler: w.routes(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		if t := o.Config.TLS; t != nil {
			err = srv.ServeTLS(ln, t.CertFile, t.KeyFile)
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Log.Error("head office's pages stopped", "err", err)
		}
	}()
	o.Log.Info("head office's pages listening", "addr", o.addr)
	return srv, nil
}
