package site

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/demo"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// stillAge is how old an event may be and still get a still: a door Pi's
// replay of yesterday's swipes gets none, the camera shows today.
const stillAge = 10 * time.Second

// cameras is the site's camera work: stills, Frigate, correlation.
type cameras struct {
	stills  *camera.Stills
	frigate *camera.Frigate // nil without frigate.url
	corr    *camera.Correlator
	recog   *camera.Recognizer
	sub     *camera.Subscriber // nil without a frigate block
	jobs    chan event.Event
	atDoor  map[string][]config.Camera // made once: the door's loop looks here per event
	config  *config.Config
	log     *slog.Logger
}

func (s *Site) startCameras(ctx context.Context, b outbox.Broker) error {
	cfg := s.Config
	c := &cameras{
		stills: &camera.Stills{Dir: camera.StillsDir(cfg.DataDir), Location: cfg.Location, Reuse: time.Second},
		corr:   camera.NewCorrelator(cfg, s.engine.Occupancy),
		recog:  camera.NewRecognizer(cfg),
		jobs:   make(chan event.Event, 256),
		atDoor: map[string][]config.Camera{},
		config: cfg,
		log:    s.log,
	}
	for _, d := range cfg.Doors {
		if cams := cfg.CamerasAt(d.ID); len(cams) > 0 {
			c.atDoor[d.ID] = cams
		}
	}
	if s.Sim != nil {
		c.stills.Sim = camera.SimStill
	}
	if f := cfg.Frigate; f != nil {
		if f.URL != "" {
			c.frigate = &camera.Frigate{URL: f.URL, Username: f.Username, Password: f.Password, Token: f.Token, CookieName: f.CookieName}
			c.stills.Frigate = c.frigate
		}
		opts, err := b.ClientOptions("sekisho-"+cfg.Site+"-frigate-"+store.NewSecret(4), mqttlink.RetryLog)
		if err != nil {
			return err
		}
		c.sub = &camera.Subscriber{Options: opts, Topic: f.Topic, Frigate: c.frigate, MaxAge: f.MaxAge,
			Log: s.log.With("part", "frigate"), Handle: func(d camera.Detection) error { return s.onDetection(ctx, d) },
			Urgent: c.corr.Urgent, Shed: func(n int) { s.frigateShed(ctx, n) }, Recognized: c.recog.Heard,
			Available: func(online bool, why string) { s.frigateAvailable(ctx, online, why) }, StatsTimeout: f.StatsTimeout}
	}
	s.cams = c
	s.afterLog.cams.Store(c)
	s.goRun("stills", s.takeStills, ctx)
	s.goRun("stills-retention", s.pruneStills, ctx)
	if c.sub != nil {
		s.goRun("frigate", c.sub.Run, ctx)
		s.goRun("correlate", s.correlate, ctx)
	}
	if f := cfg.Frigate; f != nil && f.Simulated && s.Sim != nil {
		opts, err := b.ClientOptions("sekisho-"+cfg.Site+"-simulated-frigate-"+store.NewSecret(4), mqttlink.RetryLog)
		if err != nil {
			return fmt.Errorf("site: simulated frigate: %w", err)
		}
		root, _, _ := strings.Cut(f.Topic, "/")
		s.goRun("simulated-frigate", func(ctx context.Context) error {
			return demo.Frigate(ctx, opts, root, max(f.StatsTimeout/3, time.Second))
		}, ctx)
	}
	return nil
}

// pruneStills keeps stills.keep_days days of stills, at start and every
// hour after: each older day is logged (camera.pruned, so verify knows the
// pictures went on purpose) and then removed, so a Pi's card never fills.
func (s *Site) pruneStills(ctx context.Context) error {
	dir := camera.StillsDir(s.Config.DataDir)
	keep := s.Config.Stills.KeepDays
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		days, err := camera.ExpiredDays(dir, s.clock.Now(), keep)
		if err != nil {
			s.log.Warn("stills retention", "err", err)
		}
		for _, d := range days {
			ev := &event.Event{Type: event.CameraPruned, Detail: map[string]string{"day": d.Day,
				"files": strconv.Itoa(d.Files), "bytes": strconv.FormatInt(d.Bytes, 10), "keep_days": strconv.Itoa(keep)}}
			if err := s.journal.Logged(ctx, ev); err != nil {
				s.log.Error("stills kept: their removal could not be logged", "day", d.Day, "err", err)
				continue
			}
			if err := camera.RemoveDay(dir, d.Day); err != nil {
				s.log.Error("stills retention", "day", d.Day, "err", err)
				continue
			}
			s.log.Info("stills removed by the retention policy", "day", d.Day, "files", d.Files, "bytes", d.Bytes)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// FrigateRejects counts the Frigate messages refused, by kind; nil without
// Frigate.
func (c *cameras) FrigateRejects() map[string]int {
	if c == nil || c.sub == nil {
		return nil
	}
	if m := c.sub.Rejects(); m != nil {
		return m
	}
	return map[string]int{}
}

// logged hands a logged event to the cameras: grants to the correlator,
// and the moments that matter to the stills queue.
func (c *cameras) logged(ev *event.Event) {
	if ev.Type == event.AccessGranted && ev.DecidedBy == "" {
		c.corr.Grant(ev.ID, ev.Door, ev.ZoneFrom, ev.ZoneTo, ev.Time)
		if ev.Person != nil {
			c.recog.Grant(ev.ID, ev.Seq, ev.Door, ev.ZoneTo, ev.Person.ID, ev.Person.Name, ev.Time)
		}
	}
	if !c.wantsStill(ev) || time.Since(ev.Time) > stillAge {
		return
	}
	select {
	case c.jobs <- *ev:
	default:
		c.log.Error("stills queue full: no still for this event", "seq", ev.Seq, "type", ev.Type, "door", ev.Door)
	}
}

// wantsStill: every entry to a restricted zone, every entry request at an
// inside-only door, every forced, held or tamper alarm.
func (c *cameras) wantsStill(ev *event.Event) bool {
	matters := false
	switch ev.Type {
	case event.AccessGranted:
		z, _ := c.config.Zone(ev.ZoneTo)
		matters = z.Restricted
	case event.AccessRequested:
		matters = true
	case event.DoorForced, event.DoorHeld, event.DoorTamper:
		matters = ev.Alarm != nil
	}
	return matters && len(c.atDoor[ev.Door]) > 0
}

// takeStills works the queue; each event's cameras are asked at once, and
// a slow camera holds up nobody else's still.
func (s *Site) takeStills(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-s.cams.jobs:
			for _, cam := range s.cams.atDoor[ev.Door] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.still(ctx, ev, cam)
				}()
			}
		}
	}
}

// still takes one camera's still for ev and logs it, chained to ev by id
// and seq; a camera that fails is logged too, with why.
func (s *Site) still(ctx context.Context, ev event.Event, cam config.Camera) {
	c := s.cams
	if cam.SnapshotURL == "" && (c.frigate == nil || cam.Frigate == nil) {
		return // a camera with neither stills nor Frigate has nothing to give
	}
	out := &event.Event{Type: event.CameraSnapshot, Door: ev.Door, ZoneFrom: ev.ZoneFrom, ZoneTo: ev.ZoneTo, Person: ev.Person, Visit: ev.Visit,
		Camera: &event.Camera{ID: cam.ID},
		Detail: map[string]string{"for": ev.ID, "for_seq": strconv.FormatInt(ev.Seq, 10), "for_type": ev.Type}}
	if cam.SnapshotURL != "" {
		st, err := c.stills.Take(ctx, cam, fmt.Sprintf("%08d-%s", ev.Seq, cam.ID), ev.Time)
		if err != nil {
			out.Type, out.Detail["error"] = event.CameraFailed, err.Error()
		} else {
			out.Camera.SnapshotSHA256, out.Detail["file"] = st.SHA256, st.File
		}
	}
	if c.frigate != nil && cam.Frigate != nil {
		out.Detail["frigate_url"] = c.frigate.RecordingURL(cam.Frigate.Camera, ev.Time)
		if ev.Type == event.AccessGranted {
			b := s.Config.Frigate.Bookmark
			bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			id, err := c.frigate.Bookmark(bctx, cam.Frigate.Camera, b.Label, ev.Label(), b.Duration)
			cancel()
			if err != nil {
				out.Detail["frigate_error"] = err.Error()
			} else {
				out.Detail["frigate_event"] = id
			}
		}
	}
	if ctx.Err() != nil {
		return // stopping: the log is closing
	}
	s.journal.Record(out)
}

// onDetection weighs one Frigate detection: the first sighting of an object
// is logged, and what it means (intrusion, a phone) is raised at once.
func (s *Site) onDetection(ctx context.Context, d camera.Detection) error {
	seen, findings, err := s.cams.corr.Detect(d, time.Now())
	if err != nil {
		return err
	}
	if seen.First {
		ev := &event.Event{Type: event.CameraDetection, Camera: &event.Camera{ID: seen.CameraID},
			Detail: map[string]string{"frigate_event": d.ID, "frigate_camera": d.Camera, "label": d.Label,
				"zones": strings.Join(seen.SiteZones, ","), "seen_at": d.Start.UTC().Format(time.RFC3339Nano)}}
		if len(seen.SiteZones) > 0 {
			ev.ZoneTo = seen.SiteZones[0]
		}
		if d.CaughtUp {
			ev.Detail["caught_up"] = "true"
		}
		if s.cams.frigate != nil && d.HasSnapshot {
			ev.Detail["frigate_snapshot"] = s.cams.frigate.EventSnapshotURL(d.ID)
		}
		s.journal.Record(ev)
	}
	for _, f := range findings {
		s.raiseFinding(ctx, f)
	}
	return nil
}

// correlate closes tailgating windows as they end.
func (s *Site) correlate(ctx context.Context) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			for _, f := range s.cams.corr.Due(now) {
				s.raiseFinding(ctx, f)
			}
			for _, c := range s.cams.recog.Due(now) {
				s.journal.Record(recognizedEvent(c))
				if a, ev, ok := mismatchAlarm(s.Config, c); ok {
					s.alarms.RaiseWith(a, ev)
				}
			}
		}
	}
}

func (s *Site) raiseFinding(ctx context.Context, f camera.Finding) {
	detail := map[string]string{}
	for k, v := range f.Evidence {
		detail[k] = v
	}
	if id := f.Evidence["frigate_event"]; id != "" && s.cams.frigate != nil {
		detail["frigate_snapshot"] = s.cams.frigate.EventSnapshotURL(id)
	}
	s.alarms.RaiseWith(sekisho.Alarm{Kind: f.Kind, Severity: f.Severity, Door: f.Door, Detail: f.Detail}, &event.Event{Door: f.Door, ZoneTo: f.Zone, Camera: &event.Camera{ID: f.Camera}, Detail: detail})
}

// frigateAvailable hears whether Frigate runs (its word on
// frigate/available, or its stats stopping): a stopped Frigate means no
// camera is watching for tailgaters, intruders or phones, which the guards
// must know; running again clears it.
func (s *Site) frigateAvailable(ctx context.Context, online bool, why string) {
	s.do(ctx, func(ctx context.Context) {
		switch {
		case !online && !s.frigateDown:
			s.frigateDown = true
			s.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmFrigateOffline,
				Detail: why + ": no detections of tailgating, intruders or phones until it is back"})
		case online && s.frigateDown:
			s.frigateDown = false
			s.alarms.Clear("", sekisho.AlarmFrigateOffline)
		}
	})
}

// frigateShed alarms when a flood of Frigate messages made the subscriber
// drop routine detections (never a possible violation), at most once per
// rejectQuiet; each time is logged with the count.
func (s *Site) frigateShed(ctx context.Context, n int) {
	s.do(ctx, func(ctx context.Context) {
		s.journal.Record(&event.Event{Type: event.CameraShed, Detail: map[string]string{"shed": strconv.Itoa(n)}})
		if now := time.Now(); now.Sub(s.shedAlarmed) > rejectQuiet {
			s.shedAlarmed = now
			s.alarms.Raise(sekisho.Alarm{Kind: sekisho.AlarmFrigateOverflow, Detail: fmt.Sprintf(
				"Frigate's messages came faster than Sekisho weighs them: %d routine detections were dropped (no phone or person in a guarded zone was)", n)})
		}
	})
}
