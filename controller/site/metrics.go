package site

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sekisho/sekisho/controller/camera"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/firmware-bridge/release"
)

// meters are the site's Prometheus metrics. Counters move where the thing
// happens without waiting on anything (the log's writer, the door loop
// after the strike moved); the rest is read from the site when scraped.
type meters struct {
	registry       *prometheus.Registry
	decisions      *prometheus.CounterVec
	unlockLatency  prometheus.Histogram
	bridgeAnswer   prometheus.Histogram
	cameraFailures *prometheus.CounterVec
	appendFailures prometheus.Counter
}

func newMeters(s *Site) *meters {
	m := &meters{
		registry: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sekisho_decisions_total", Help: "Access decisions logged, by result and reason.",
		}, []string{"result", "reason"}),
		unlockLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sekisho_unlock_latency_seconds", Help: "From a card's last bit to its strike released, at the controller's own readers.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		bridgeAnswer: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sekisho_bridge_answer_seconds", Help: "From a door Pi's live card reaching the controller to its answer sent.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		cameraFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sekisho_camera_failures_total", Help: "Stills a camera did not give (camera.failed), by camera.",
		}, []string{"camera"}),
		appendFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sekisho_log_append_failures_total", Help: "Times the log refused appends: each spell of refusals (events held and tried again) once, and each event lost with an alarm.",
		}),
	}
	// Every series the config can name exists from the start at 0, so
	// rate() sees the first event and "none yet" is a number, not a gap.
	m.decisions.WithLabelValues("granted", "")
	m.decisions.WithLabelValues("requested", event.ReasonInsideOnly)
	for _, r := range event.Reasons {
		m.decisions.WithLabelValues("denied", r)
	}
	for _, c := range s.Config.Cameras {
		m.cameraFailures.WithLabelValues(c.ID)
	}
	m.registry.MustRegister(m.decisions, m.unlockLatency, m.bridgeAnswer, m.cameraFailures, m.appendFailures,
		&siteCollector{s: s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// logged counts what an appended event says.
func (m *meters) logged(ev *event.Event) {
	switch ev.Type {
	case event.AccessGranted, event.AccessDenied, event.AccessRequested:
		m.decisions.WithLabelValues(ev.Type[len("access."):], ev.Reason).Inc()
	case event.CameraFailed:
		camera := ""
		if ev.Camera != nil {
			camera = ev.Camera.ID
		}
		m.cameraFailures.WithLabelValues(camera).Inc()
	}
}

// siteCollector reads the site's state at each scrape.
type siteCollector struct{ s *Site }

var (
	descDoorLocked   = prometheus.NewDesc("sekisho_door_locked", "1 when the door is locked.", []string{"door"}, nil)
	descDoorOpen     = prometheus.NewDesc("sekisho_door_open", "1 when the door is open.", []string{"door"}, nil)
	descDoorAlarm    = prometheus.NewDesc("sekisho_door_alarm", "1 while the door is forced or held open.", []string{"door", "kind"}, nil)
	descAlarmsOpen   = prometheus.NewDesc("sekisho_alarms_open", "Alarms raised and not cleared, by kind.", []string{"kind"}, nil)
	descHeadSeq      = prometheus.NewDesc("sekisho_log_head_seq", "The seq of the log's last event.", nil, nil)
	descOutboxLag    = prometheus.NewDesc("sekisho_outbox_lag_events", "Events in the log not yet delivered to the broker.", nil, nil)
	descMQTT         = prometheus.NewDesc("sekisho_mqtt_connected", "1 while the controller is connected to its broker.", nil, nil)
	descBridgeOnline = prometheus.NewDesc("sekisho_bridge_online", "1 while the door Pi says it is online.", []string{"bridge"}, nil)
	descBridgeRev    = prometheus.NewDesc("sekisho_bridge_cards_rev", "The revision of the cards the door Pi last acknowledged (the controller's change counter, ns).", []string{"bridge"}, nil)
	descBridgeInStep = prometheus.NewDesc("sekisho_bridge_cards_in_step", "1 while the door Pi holds the cards it should.", []string{"bridge"}, nil)
	descFrigate      = prometheus.NewDesc("sekisho_frigate_refused_total", "Frigate messages refused, by kind.", []string{"kind"}, nil)
	descDiskFree     = prometheus.NewDesc("sekisho_disk_free_bytes", "Free bytes on the data dir's filesystem.", nil, nil)
	descStorageOK    = prometheus.NewDesc("sekisho_storage_ok", "1 while the log takes writes.", nil, nil)
	descBuild        = prometheus.NewDesc("sekisho_build_info", "The running build.", []string{"version", "commit"}, nil)
)

func (c *siteCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDoorLocked, descDoorOpen, descDoorAlarm, descAlarmsOpen, descHeadSeq, descOutboxLag,
		descMQTT, descBridgeOnline, descBridgeRev, descBridgeInStep, descFrigate, descDiskFree, descStorageOK, descBuild} {
		ch <- d
	}
}

func (c *siteCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	one := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, d := range s.Doors.States() {
		gauge(descDoorLocked, one(d.Locked), d.ID)
		gauge(descDoorOpen, one(d.Open), d.ID)
		for _, kind := range []sekisho.AlarmKind{sekisho.AlarmForced, sekisho.AlarmHeld, sekisho.AlarmTamper} {
			gauge(descDoorAlarm, one(d.Alarm == string(kind)), d.ID, string(kind))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if open, err := s.Store.OpenAlarms(ctx); err == nil {
		kinds := map[string]int{}
		for _, k := range sekisho.Kinds {
			kinds[string(k.Kind)] = 0 // "no open alarms of this kind" is a series too
		}
		for _, a := range append(open, s.alarms.Held()...) {
			kinds[string(a.Kind)]++
		}
		for kind, n := range kinds {
			gauge(descAlarmsOpen, float64(n), kind)
		}
	}
	head := s.Store.Head()
	gauge(descHeadSeq, float64(head))
	if delivered, err := s.Store.Delivered(ctx, outbox.Name); err == nil {
		gauge(descOutboxLag, float64(max(0, head-delivered)))
	}
	if s.outbox != nil {
		gauge(descMQTT, one(s.outbox.Connected()))
	}
	for _, l := range s.remotes {
		gauge(descBridgeOnline, one(l.Status() == "online"), l.ID)
	}
	if s.fleet != nil {
		for _, st := range s.fleet.States() {
			gauge(descBridgeRev, float64(st.HeldRev), st.ID)
			gauge(descBridgeInStep, one(st.InStep), st.ID)
		}
	}
	if refused := s.cams.FrigateRejects(); refused != nil {
		for _, kind := range camera.RejectKinds {
			ch <- prometheus.MustNewConstMetric(descFrigate, prometheus.CounterValue, float64(refused[kind]), kind)
		}
	}
	if free, _, err := s.freeSpace(s.Config.DataDir); err == nil {
		gauge(descDiskFree, float64(free))
	}
	gauge(descStorageOK, one(s.journal.Health().OK))
	build := release.Running()
	gauge(descBuild, 1, build.Version, build.Commit)
}
