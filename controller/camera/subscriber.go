package camera

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Subscriber listens to Frigate's detections on MQTT and, after a gap,
// reads back from Frigate's API what it missed.
type Subscriber struct {
	Options *paho.ClientOptions // broker, login, client id; handlers are set here
	Topic   string
	Frigate *Frigate // nil: no catch-up after a gap
	MaxAge  time.Duration
	Log     *slog.Logger
	// Handle acts on one detection; a *Reject it returns is counted.
	Handle func(Detection) error
	// Urgent marks detections that may be violations: they are never shed.
	Urgent func(Detection) bool
	// Shed hears, from Run's goroutine, how many detections a flood made
	// it drop since it last said so.
	Shed func(n int)
	// Recognized hears, from paho's goroutines, each name Frigate 0.16+
	// recognised: a sub_label with its score on a detection, or a face or
	// plate on <root>/tracked_object_update. It must touch memory only; a
	// *Reject it returns is counted.
	Recognized func(Recognition) error
	// Available hears whether Frigate is running, and why not: its word on
	// <root>/available (online; offline, its last will; stopped, said by
	// 0.18 on a clean stop), and its stats on <root>/stats, which stop
	// without a word when 0.14–0.17 stop cleanly (no will is sent then,
	// and the retained "online" stays). It must not block long.
	Available func(online bool, why string)
	// StatsTimeout is how long Frigate may stay silent on <root>/stats
	// before it is taken for stopped: a few of Frigate's stats_interval
	// (60 s by default). Zero: three minutes.
	StatsTimeout time.Duration
	// Now is the clock the stats are timed on (time.Now when nil).
	Now func() time.Time

	queue    detectionQueue
	life     frigateLife
	lifeWake chan struct{}
	told     *bool // what Available was last told (nil: nothing yet)
	mu       sync.Mutex
	counts   map[string]int
	lastLog  map[string]time.Time
	lastSeen time.Time
}

// logEvery is how often one kind of bad message is logged: a camera that
// sends garbage ten times a second must not drown the log.
const logEvery = time.Minute

// Rejects counts the messages refused, by kind.
func (s *Subscriber) Rejects() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// Run subscribes until ctx ends.
func (s *Subscriber) Run(ctx context.Context) error {
	s.mu.Lock()
	s.counts, s.lastLog = map[string]int{}, map[string]time.Time{}
	s.mu.Unlock()
	s.queue.init()
	s.lifeWake = make(chan struct{}, 1)
	connected := make(chan struct{}, 1)
	opts := *s.Options
	// In order: Frigate's last stats before its "offline" must not be
	// weighed after it and undo it. The handlers may run on paho's one
	// router goroutine because they never block: they hand over to Run's
	// goroutine or touch a little memory under a short lock.
	opts.SetOrderMatters(true)
	opts.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(s.Topic, 0, func(_ paho.Client, m paho.Message) {
			now := time.Now()
			d, err := ParseMessage(m.Payload(), now, s.MaxAge)
			if err != nil {
				s.refuse(err)
				return
			}
			if r, ok := d.Recognition(now); ok && s.Recognized != nil {
				if err := s.Recognized(r); err != nil {
					s.refuse(err)
				}
			}
			urgent := s.Urgent != nil && s.Urgent(d)
			if shed := s.queue.push(d, urgent); shed {
				s.refuse(reject("overflow", "detections arrive faster than they are weighed; a routine one was shed"))
			}
		})
		root, _, _ := strings.Cut(s.Topic, "/")
		if s.Recognized != nil {
			c.Subscribe(root+"/tracked_object_update", 0, func(_ paho.Client, m paho.Message) {
				r, ok, err := ParseObjectUpdate(m.Payload(), time.Now(), s.MaxAge)
				if err == nil && ok {
					err = s.Recognized(r)
				}
				if err != nil {
					s.refuse(err)
				}
			})
		}
		if s.Available != nil {
			c.Subscribe(root+"/available", 1, func(_ paho.Client, m paho.Message) {
				switch word := string(m.Payload()); word {
				case "online", "offline", "stopped":
					s.life.said(word, s.now())
					s.poke()
				}
			})
			c.Subscribe(root+"/stats", 0, func(paho.Client, paho.Message) {
				if s.life.stats(s.now()) {
					s.poke()
				}
			})
		}
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		s.Log.Warn("frigate detections: connection lost; will catch up from Frigate's API", "err", err)
	})
	client := paho.NewClient(&opts)
	client.Connect()
	defer client.Disconnect(250)

	first := true
	s.life.start(s.now())
	check := time.NewTicker(max(s.statsTimeout()/8, 10*time.Millisecond))
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-check.C:
			s.tellLife()
		case <-s.lifeWake:
			s.tellLife()
		case <-connected:
			if !first {
				s.catchUp(ctx)
			}
			first = false
		case <-s.queue.wake:
			for {
				d, ok := s.queue.pop()
				if !ok {
					break
				}
				s.handle(d)
			}
			if n := s.queue.takeShed(); n > 0 && s.Shed != nil {
				s.Shed(n)
			}
		}
	}
}

// queueRoutine is how many routine detections wait at most. Urgent ones
// (possible violations) are never shed for routine ones; their own bound
// only keeps a flood of forged ones (on a broker without users) from
// filling memory, and what it drops is counted and alarmed like the rest.
const (
	queueRoutine = 1024
	queueUrgent  = 1 << 16
)

// detectionQueue holds detections between paho's goroutines and Run's.
// When full it sheds routine ones, updates of objects already seen first,
// and never an urgent one.
type detectionQueue struct {
	mu      sync.Mutex
	urgent  []Detection
	routine []Detection
	shed    int
	wake    chan struct{}
}

func (q *detectionQueue) init() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.urgent, q.routine, q.shed = nil, nil, 0
	q.wake = make(chan struct{}, 1)
}

// push queues d; shed reports that a routine detection was dropped for it.
func (q *detectionQueue) push(d Detection, urgent bool) (shed bool) {
	q.mu.Lock()
	switch {
	case urgent && len(q.urgent) < queueUrgent:
		q.urgent = append(q.urgent, d)
	case urgent:
		shed = true
		q.shed++
	case len(q.routine) < queueRoutine:
		q.routine = append(q.routine, d)
	default:
		shed = true
		q.shed++
		// A repeat (an update of an object already announced) goes first;
		// with none queued, the newcomer if it is one, else the oldest.
		drop := -1
		for i, r := range q.routine {
			if r.Type == "update" {
				drop = i
				break
			}
		}
		switch {
		case drop >= 0:
			q.routine = append(append(q.routine[:drop:drop], q.routine[drop+1:]...), d)
		case d.Type == "update":
		default:
			q.routine = append(q.routine[1:], d)
		}
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return shed
}

// pop takes the next detection, urgent ones first.
func (q *detectionQueue) pop() (Detection, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.urgent) > 0 {
		d := q.urgent[0]
		q.urgent = q.urgent[1:]
		return d, true
	}
	if len(q.routine) > 0 {
		d := q.routine[0]
		q.routine = q.routine[1:]
		return d, true
	}
	return Detection{}, false
}

func (q *detectionQueue) takeShed() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.shed
	q.shed = 0
	return n
}

func (s *Subscriber) handle(d Detection) {
	if err := s.Handle(d); err != nil {
		s.refuse(err)
		return
	}
	s.mu.Lock()
	if d.Start.After(s.lastSeen) {
		s.lastSeen = d.Start
	}
	s.mu.Unlock()
}

// catchUp reads back the detections Frigate published while the link was
// down: Frigate sends them at QoS 0 and keeps none for an absent subscriber.
func (s *Subscriber) catchUp(ctx context.Context) {
	if s.Frigate == nil || s.Frigate.URL == "" {
		return
	}
	s.mu.Lock()
	after := s.lastSeen
	s.mu.Unlock()
	if oldest := time.Now().Add(-s.MaxAge); after.Before(oldest) {
		after = oldest
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	missed, err := s.Frigate.EventsAfter(ctx, after)
	if err != nil {
		s.Log.Warn("frigate catch-up failed; detections from the gap are lost", "after", after, "err", err)
		return
	}
	s.Log.Info("frigate catch-up", "after", after, "events", len(missed))
	for _, d := range missed {
		s.handle(d)
	}
}

func (s *Subscriber) refuse(err error) {
	var r *Reject
	if !errors.As(err, &r) {
		r = &Reject{Kind: "error", Detail: err.Error()}
	}
	s.mu.Lock()
	s.counts[r.Kind]++
	n := s.counts[r.Kind]
	quiet := time.Since(s.lastLog[r.Kind]) < logEvery
	if !quiet {
		s.lastLog[r.Kind] = time.Now()
	}
	s.mu.Unlock()
	if !quiet {
		s.Log.Warn("frigate message refused", "kind", r.Kind, "detail", r.Detail, "count", n)
	}
}
