package site

import (
	"context"
	"log/slog"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/doors"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/controller/outbox"
	"github.com/sekisho/sekisho/controller/store"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// hqDelivery is the head-office link's mark in the delivery table: it
// resumes from the last event head office's broker acknowledged, apart
// from the site's own broker.
const hqDelivery = "hq"

// hqUplink is the site's copy of its log for head office (nil without an
// hq block): the log, its alarms and checkpoints published to the
// head-office broker as the site's own outbox publishes them locally, and
// head office's countersignatures taken back and kept with the log.
func hqUplink(cfg *config.Config, st *store.Store, tracker *doors.Tracker, tree *logtree.Tree, notices <-chan outbox.Notice, log *slog.Logger) *outbox.Outbox {
	h := cfg.HQ
	if h == nil {
		return nil
	}
	topics := mqttlink.Topics{Prefix: cfg.MQTT.TopicPrefix}
	log = log.With("link", "hq")
	return &outbox.Outbox{Store: st, Doors: tracker, Prefix: cfg.MQTT.TopicPrefix, Site: cfg.Site, Log: log,
		Broker:   mqttlink.Broker{URL: h.Broker.URL, Username: h.Broker.Username, Password: h.Broker.Password, CAFile: h.Broker.CAFile},
		Delivery: hqDelivery, Uplink: true, Notices: notices, Replay: 0,
		Occupancy: func() map[string]int { return nil },
		Hear: map[string]func([]byte){topics.Cosignature(): func(note []byte) {
			// Off the MQTT client's goroutine: keeping it writes the log's file.
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := tree.Cosign(ctx, note, time.Now()); err != nil {
					log.Warn("head office's countersignature not kept", "err", err)
				}
			}()
		}}}
}
