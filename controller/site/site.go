// Package site runs one site: it wires the hardware bridge, the access rules,
// the door states, the log, the MQTT outbox and the HTTP API together, and
// turns each signal from the doors into a decision, a relay command and a
// row in the log.
package site

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sekisho/sekisho/controller/access"
	"github.com/sekisho/sekisho/controller/alarms"
	"github.com/sekisho/sekisho/controller/assets"
	"github.com/sekisho/sekisho/controller/broker"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/demo"
	"github.com/sekisho/sekisho/controller/desk"
	"github.com/sekisho/sekisho/controller/doors"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/fleet"
	"github.com/sekisho/sekisho/controller/httpapi"
	"github.com/sekisho/sekisho/controller/journal"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sitekeys"
	"github.com/sekisho/sekisho/controller/sitetime"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/controller/wallclock"
	"github.com/sekisho/sekisho/firmware-bridge/bridge"
	"github.com/sekisho/sekisho/firmware-bridge/release"
	"github.com/sekisho/sekisho/firmware-bridge/remote"
	"github.com/sekisho/sekisho/firmware-bridge/simhw"
)

// GCPercent is the controller's GOGC: fewer collections, so fewer pauses
// on a door's path, for a few MB more memory.
const GCPercent = 400

// MemoryLimit is a running site's soft memory limit (GOMEMLIMIT): GOGC 400
// lets the heap grow to five times what is live, and with 200 door Pis and
// 10,000 cards that was 900 MB on a 2 GB Pi. Near the limit the collector
// runs more often instead; GOMEMLIMIT in the environment still wins.
const MemoryLimit = 200 << 20

// Site is a running site.
type Site struct {
	Config *config.Config
	Store  *store.Store
	Doors  *doors.Tracker
	Sim    *simhw.Board // nil unless hardware: sim

	link    bridge.Link
	multi   *bridge.Multi
	local   *bridge.Local // nil when every door is on a door Pi
	engine  *access.Engine
	log     *slog.Logger
	signals chan bridge.Signal
	tasks   chan func(context.Context)
	journal *journal.Journal
	alarms  *alarms.Alarms
	desk    *desk.Desk
	console *console
	// afterLog is what follows each append (meters, cameras, the storage
	// alarm).
	afterLog   afterLog
	rejections chan remote.Rejection
	// rejectionsLost counts rejections that came faster than the loop logs
	// them; the next one logged says how many.
	rejectionsLost atomic.Int64
	rejectCounts   map[string][]time.Time // bridge → recent rejections (loop only)
	rejectAlarmed  map[string]time.Time   // bridge → when its alarm was last raised (loop only)
	shedAlarmed    time.Time              // when a Frigate flood was last alarmed (loop only)
	frigateDown    bool                   // Frigate said offline and is not back (loop only)
	lastDecision   <-chan error           // the latest decision's append (loop only; the benchmark waits on it)

	clock       sitetime.Clock
	cams        *cameras
	notices     chan outbox.Notice // told over MQTT at once, outside the log
	checkpoints *checkpointer
	freeSpace   func(dir string) (free, total uint64, err error) // the metrics read it too

	meters   *meters
	commands chan doorCommand // Home Assistant's, as the broker heard them
	outbox   *outbox.Outbox
	remotes  []*remote.Link // the door Pis' links
	fleet    *fleet.Fleet   // the door Pis' cards; nil without door Pis
	// onBridgeAnswer is Options.BridgeAnswered.
	onBridgeAnswer func(took time.Duration)

	broker   *broker.Broker // nil with an external broker
	api      *httpapi.Server
	httpAddr string
	httpsOn  bool
	mqttURL  string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	waitOnce sync.Once
	waitErr  error
	errMu    sync.Mutex
	err      error
}

// Start brings a site up and returns once its doors are locked, its readers
// listen and its API answers.
func Start(ctx context.Context, cfg *config.Config, opts Options) (*Site, error) {
	if opts.DataDir != "" {
		cfg.DataDir = opts.DataDir
	}
	if opts.HTTPListen != "" {
		cfg.HTTP.Listen = opts.HTTPListen
	}
	if opts.MQTTListen != "" && cfg.MQTT.Embedded != nil {
		cfg.MQTT.Embedded.Listen = opts.MQTTListen
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("site", cfg.Site)

	s := &Site{
		Config:     cfg,
		Doors:      doors.NewTracker(cfg),
		log:        log,
		signals:    make(chan bridge.Signal, 1024),
		tasks:      make(chan func(context.Context), 64),
		rejections: make(chan remote.Rejection, 256),

		rejectCounts:  map[string][]time.Time{},
		rejectAlarmed: map[string]time.Time{},

		clock:    sitetime.Clock{Location: cfg.Location, Source: opts.Now},
		notices:  make(chan outbox.Notice, 16),
		commands: make(chan doorCommand, 64),

		onBridgeAnswer: opts.BridgeAnswered,
	}
	s.meters = newMeters(s)
	s.afterLog.meters = s.meters
	// The doors lock before anything else happens: no pulse on start.
	local, err := s.startHardware()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("site: data dir: %w", err)
	}
	st, err := store.Open(ctx, DBPath(cfg.DataDir, cfg.Site), cfg.Site)
	if err != nil {
		return nil, err
	}
	s.Store = st
	s.local = local
	logKey, created, err := sitekeys.Log(cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, err
	}
	if created {
		fmt.Fprintf(opts.Out, "The log's checkpoint key was made: %s\n  public key %x\n  (keep the public key with your checkpoints; `controller checkpoints key` prints it again)\n",
			sitekeys.LogKeyPath(cfg.DataDir), logKey.Public())
	}
	s.journal = journal.New(st, journal.Faults{Transient: store.Transient, Reason: store.Reason}, &s.afterLog, log)
	// The log's times come from the site's clock, and never run backwards
	// while the kernel's is not synchronised.
	wall := wallclock.New(s.clock.Now)
	s.journal.SetClock(wall)
	s.alarms = alarms.New(st, s.journal, cfg.Site, s.notices, log)
	tree, err := logtree.New(st, cfg.Storage.Origin, logKey, cfg.Storage.Witnesses, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	var toHQ chan outbox.Notice // head office's link hears of checkpoints too
	if cfg.HQ != nil {
		toHQ = make(chan outbox.Notice, 16)
	}
	s.checkpoints = &checkpointer{store: st, key: logKey, tree: tree, alarms: s.alarms, notices: s.notices, uplink: toHQ, log: log}
	s.afterLog.storage = &alarms.Storage{Alarms: s.alarms}
	s.engine = access.NewEngine(access.Decider{Config: cfg, Cards: heldCards{st}})
	s.desk = desk.New(cfg, st, s.journal, s.clock, loopRunner(s.onLoop), s.engine, log)
	// Visitors' badges are judged from the desk's memory, never from the
	// database the log shares.
	s.engine.Visits = s.desk
	s.console = &console{config: cfg, people: st, engine: s.engine, desk: s.desk, link: s.link, journal: s.journal, onLoop: s.onLoop}
	// Who is where, from the log: a restart forgets nobody inside.
	recent, err := st.Since(ctx, time.Now().Add(-cfg.Access.AntiPassbackReset),
		event.AccessGranted, event.VisitorCheckedOut, event.PersonForgiven)
	if err != nil {
		st.Close()
		return nil, err
	}
	s.engine.Replay(recent)
	if err := demo.Seed(ctx, st, cfg, s.Sim != nil, opts.Out); err != nil {
		st.Close()
		return nil, err
	}

	// The cards and the visitors checked in are in memory before a door
	// first asks.
	if err := st.LoadCards(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.desk.Load(ctx); err != nil {
		st.Close()
		return nil, err
	}
	s.journal.Start()
	// Where customers' assets are now: the cover check asks it.
	register, err := assets.Load(ctx, cfg, st, s.journal)
	if err != nil {
		s.journal.Close(time.Second)
		st.Close()
		return nil, err
	}
	s.engine.Places, s.desk.Places = register, register
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	fail := func(err error) (*Site, error) {
		cancel()
		s.wg.Wait()
		s.journal.Close(time.Second)
		if s.broker != nil {
			s.broker.Close()
		}
		st.Close()
		return nil, err
	}

	brokerURL, err := s.startBroker(opts.Out)
	if err != nil {
		return fail(err)
	}
	s.mqttURL = brokerURL.URL
	if len(cfg.Bridges()) > 0 {
		key, err := sitekeys.Controller(cfg.DataDir)
		if err != nil {
			return fail(err)
		}
		if err := s.linkRemotes(brokerURL, key); err != nil {
			return fail(err)
		}
	}

	bridgeReady := make(chan error, 1)
	s.goRun("bridge", func(ctx context.Context) error {
		err := s.link.Run(ctx, func(sig bridge.Signal) { s.emit(ctx, sig) })
		bridgeReady <- err
		return err
	}, ctx)
	if local != nil {
		select {
		case <-local.Ready():
		case err := <-bridgeReady:
			return fail(fmt.Errorf("site: bridge: %w", err))
		}
	}
	// Cameras before the loop: every event the loop logs may want a still.
	if err := s.startCameras(ctx, brokerURL); err != nil {
		return fail(err)
	}
	s.goRun("doors", s.loop, ctx)
	if s.fleet != nil {
		s.goRun("fleet", s.fleet.Run, ctx)
	}
	s.goRun("wal", s.flushWAL, ctx)
	s.goRun("log-tree", tree.Run, ctx)
	s.goRun("checkpoints", func(ctx context.Context) error {
		return every(ctx, cfg.Storage.CheckpointEvery, false, s.checkpoints.sign)
	}, ctx)
	freeSpace := opts.FreeSpace
	if freeSpace == nil {
		freeSpace = DiskSpace
	}
	s.freeSpace = freeSpace
	room := &space{dir: cfg.DataDir, limits: cfg.Storage, freeSpace: freeSpace, journal: s.journal,
		storage: s.afterLog.storage, clock: s.clock, log: log}
	s.goRun("free-space", func(ctx context.Context) error {
		return every(ctx, cmp.Or(opts.FreeSpaceEvery, 10*time.Second), true, room.check)
	}, ctx)
	s.goRun("cards", s.watchCards, ctx)
	s.goRun("clock", func(ctx context.Context) error {
		alarm := cfg.Storage.UnsyncedAlarm == nil || *cfg.Storage.UnsyncedAlarm
		return wall.Watch(ctx, cmp.Or(opts.ClockEvery, 10*time.Second), opts.ClockSynced, &clockWatch{alarms: s.alarms, journal: s.journal, alarm: alarm})
	}, ctx)
	s.goRun("overstay", func(ctx context.Context) error {
		return s.desk.Overstays(ctx, s.alarms, cmp.Or(opts.OverstayEvery, 30*time.Second))
	}, ctx)
	s.goRun("escalate", func(ctx context.Context) error {
		return s.alarms.Escalate(ctx, cfg.Access.EscalateAfter, cmp.Or(opts.EscalateEvery, 5*time.Second))
	}, ctx)
	ob := &outbox.Outbox{Store: st, Doors: s.Doors, Prefix: cfg.MQTT.TopicPrefix, Site: cfg.Site, Broker: brokerURL, Log: log,
		Occupancy: s.engine.Occupancy, Notices: s.notices}
	s.outbox = ob
	if s.broker != nil {
		ob.Replay = 400 // two of the outbox's batches: what mochi may have acknowledged and not stored
	}
	for _, d := range cfg.Doors {
		ob.DoorNames = append(ob.DoorNames, outbox.Named{ID: d.ID, Name: cmp.Or(d.Name, d.ID)})
	}
	for _, z := range cfg.Zones {
		if !z.Public { // nobody is counted in the street
			ob.ZoneNames = append(ob.ZoneNames, outbox.Named{ID: z.ID, Name: cmp.Or(z.Name, z.ID)})
		}
	}
	if cfg.MQTT.HomeAssistant == nil || *cfg.MQTT.HomeAssistant {
		ob.HomeAssistant = &outbox.Discovery{Prefix: cfg.MQTT.DiscoveryPrefix, SiteName: cmp.Or(cfg.Name, cfg.Site),
			Locks: s.commandsHeard(), Version: release.Running().Version, URL: s.dashboardURL(), Language: cfg.Language}
	}
	s.goRun("outbox", ob.Run, ctx)
	if up := hqUplink(cfg, ob, toHQ, log); up != nil {
		s.goRun("hq-uplink", up.Run, ctx)
	}
	if hear, err := hqListener(cfg, brokerURL, st, s.journal, tree, logKey, log); err != nil {
		return fail(err)
	} else if hear != nil {
		s.goRun("hq-link", hear.Run, ctx)
	}
	s.goRun("home-assistant", s.doCommands, ctx)
	s.goRun("watchdog", s.watchLoop, ctx)

	api := &httpapi.Server{Config: cfg, Store: st, Doors: s.Doors, Log: log, Background: ctx, Clock: s.clock,
		Console: s.console, Desk: s.desk, Alarms: s.alarms, Journal: s.journal, Proofs: s.checkpoints.tree, Assets: register,
		Metrics: promhttp.HandlerFor(s.meters.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})}
	if s.Sim != nil {
		api.Sim = &simulator{site: s}
	}
	if s.fleet != nil {
		api.Fleet = s.fleet
	}
	if s.cams.sub != nil {
		api.Cameras = s.cams
	}
	// The --http override is held to the config's rule.
	if err := config.CheckHTTPExposure(cfg.HTTP.Listen, cfg.HTTP.TLS); err != nil {
		return fail(fmt.Errorf("site: http.listen: %w", err))
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fail(fmt.Errorf("site: http listen %s: %w", cfg.HTTP.Listen, err))
	}
	s.httpAddr = ln.Addr().String()
	httpsConfig, err := s.listenerTLS("http.tls", "Dashboard (HTTPS)", cfg.HTTP.TLS, sitekeys.DashboardCert, opts.Out,
		"Compare it with what the browser shows the first time; then trust it on the guards' machines.")
	if err != nil {
		ln.Close()
		return fail(err)
	}
	if httpsConfig != nil {
		ln = tls.NewListener(ln, httpsConfig)
		s.httpsOn = true
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Requests end with the site, so live streams don't hold up Shutdown.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	s.api = api
	s.goRun("http", func(ctx context.Context) error { return serveHTTP(ctx, srv, ln, s.log) }, ctx)
	log.Info("dashboard and API listening", "addr", s.httpAddr, "hardware", cfg.Hardware)
	// What the doors obey this run, as a hash a manager can hold the file to.
	if b, err := os.ReadFile(cfg.File); err == nil {
		sum := sha256.Sum256(b)
		s.journal.Record(&event.Event{Type: event.ConfigLoaded, Detail: map[string]string{"file": cfg.File, "sha256": hex.EncodeToString(sum[:])}})
	} else if cfg.File != "" {
		log.Warn("config file not hashed for the log", "err", err)
	}
	s.journal.Record(&event.Event{Type: event.SystemStarted, Detail: map[string]string{"hardware": cfg.Hardware}})
	// The first start's accounts, once everything is up: a start that
	// failed made none and printed no password.
	made, err := demo.Accounts(ctx, st, s.Sim != nil)
	if err != nil {
		s.cancel()
		s.Wait()
		return nil, err
	}
	for _, a := range made {
		s.journal.Record(&event.Event{Type: event.UserCreated, Actor: "first start", Detail: map[string]string{"user": a.Name, "role": a.Role}})
	}
	if len(made) > 0 {
		demo.PrintAccounts(opts.Out, made)
	}
	s.notifySystemd(daemon.SdNotifyReady)
	return s, nil
}

func (s *Site) goRun(name string, f func(context.Context) error, ctx context.Context) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := f(ctx)
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = nil // stopped because the site stops, mid-call
		}
		if err != nil {
			s.log.Error("stopped with error", "part", name, "err", err)
			s.errMu.Lock()
			s.err = errors.Join(s.err, fmt.Errorf("%s: %w", name, err))
			s.errMu.Unlock()
			s.cancel()
		}
	}()
}

// flushWAL folds the write-ahead log into the database now and then, off
// the door's path (appends never checkpoint; see store.Open).
func (s *Site) flushWAL(ctx context.Context) error {
	return every(ctx, 5*time.Second, false, func(ctx context.Context) {
		err := s.Store.FlushWAL(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil && store.Transient(err):
			s.journal.FlushFailing(err)
		case err != nil:
			s.log.Warn("write-ahead log not folded in", "err", err)
		default:
			s.journal.FlushResumed()
		}
	})
}

// Stop ends the site and waits for it.
func (s *Site) Stop() error {
	s.cancel()
	return s.Wait()
}

// Wait waits for a stopping site, logs that it stopped and closes the store.
// Calling it again returns the same result.
func (s *Site) Wait() error {
	s.waitOnce.Do(func() { s.waitErr = s.finish() })
	return s.waitErr
}

// journalGrace is how long a stopping site waits for a locked database to
// take the events still waiting; past it, each is named in the process log.
const journalGrace = 10 * time.Second

func (s *Site) finish() error {
	s.notifySystemd(daemon.SdNotifyStopping)
	// In order: the parts and the API drained, the work requests started
	// (a verify, the demo shift) ended, then the log's last words written,
	// then the store closed.
	s.wg.Wait()
	if s.api != nil {
		s.api.Wait()
	}
	s.journal.Record(&event.Event{Type: event.SystemStopped})
	s.journal.Close(journalGrace)
	// The last word of this run, signed: a log cut after a clean stop is
	// caught by this checkpoint (published at the next start).
	s.checkpoints.sign(context.Background())
	s.errMu.Lock()
	err := s.err
	s.errMu.Unlock()
	if s.broker != nil {
		err = errors.Join(err, s.broker.Close())
	}
	return errors.Join(err, s.Store.Close())
}

// HTTPSOn says whether the dashboard speaks HTTPS.
func (s *Site) HTTPSOn() bool { return s.httpsOn }

// HTTPAddr is the address the API listens on.
func (s *Site) HTTPAddr() string { return s.httpAddr }

// MQTTURL is the broker the site publishes to.
func (s *Site) MQTTURL() string { return s.mqttURL }

// BrokerAddr is where the embedded broker listens for other machines ("" with
// an external broker).
func (s *Site) BrokerAddr() string {
	if s.broker == nil {
		return ""
	}
	return s.broker.Addr()
}
