package site

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"strconv"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hqcommand"
	"github.com/sekisho/sekisho/controller/hqlink"
	"github.com/sekisho/sekisho/controller/journal"
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
// hq block, or when a Mosquitto bridge carries the site's topics there):
// the log, its alarms and checkpoints published to the head-office broker
// as the site's own outbox publishes them locally.
func hqUplink(cfg *config.Config, local *outbox.Outbox, notices <-chan outbox.Notice, log *slog.Logger) *outbox.Outbox {
	h := cfg.HQ
	if h == nil || h.Broker.URL == "" {
		return nil
	}
	// Head counts go too: head office shows each plant's zones.
	return &outbox.Outbox{Store: local.Store, Doors: local.Doors, Prefix: cfg.MQTT.TopicPrefix, Site: cfg.Site, Log: log.With("link", "hq"),
		Broker: hqBroker(h), Delivery: hqDelivery, Uplink: true, Notices: notices,
		ZoneNames: local.ZoneNames, Occupancy: local.Occupancy}
}

func hqBroker(h *config.HQ) mqttlink.Broker {
	return mqttlink.Broker{URL: h.Broker.URL, Username: h.Broker.Username, Password: h.Broker.Password, CAFile: h.Broker.CAFile}
}

// hqListener hears head office (nil without an hq block): on the
// head-office broker, or on the site's own when bridged.
func hqListener(cfg *config.Config, local mqttlink.Broker, st *store.Store, j *journal.Journal, tree *logtree.Tree, logKey ed25519.PrivateKey, log *slog.Logger) (*hqlink.Link, error) {
	h := cfg.HQ
	if h == nil {
		return nil, nil
	}
	key, err := hqcommand.PublicKey(h.Key)
	if err != nil {
		return nil, err
	}
	broker := local
	if h.Broker.URL != "" {
		broker = hqBroker(h)
	}
	return &hqlink.Link{Broker: broker, Prefix: cfg.MQTT.TopicPrefix, Site: cfg.Site, Key: key, LogKey: logKey, Log: log.With("link", "hq"),
		Cosign: func(ctx context.Context, note []byte) error {
			_, err := tree.Cosign(ctx, note, time.Now())
			return err
		},
		Applied: func(ctx context.Context, id string) (int, bool, error) {
			res, done, err := st.HQCommand(ctx, id)
			n, _ := strconv.Atoi(res)
			return n, done, err
		},
		Revoke: func(ctx context.Context, r hqcommand.Revocation) (int, error) { return revokeForHQ(ctx, st, j, r) }}, nil
}

// revokeForHQ disables everyone here with the revocation's employee
// number, each logged as done by head office's user, and notes the
// command applied. The cards index follows the store, so every door and
// door Pi hears of it as of an admin's change.
func revokeForHQ(ctx context.Context, st *store.Store, j *journal.Journal, r hqcommand.Revocation) (int, error) {
	people, err := st.PeopleByEmployeeNumber(ctx, r.EmployeeNumber)
	if err != nil {
		return 0, err
	}
	for _, p := range people {
		if p.Disabled {
			continue
		}
		if err := st.SetPersonDisabled(ctx, p.ID, true); err != nil {
			return 0, err
		}
		ev := &event.Event{Type: event.PersonDisabled, Person: p.Logged(), Actor: "hq:" + r.By,
			Detail: map[string]string{"hq_command": r.ID, "employee_number": r.EmployeeNumber}}
		if r.Reason != "" {
			ev.Detail["reason"] = r.Reason
		}
		if err := j.Logged(ctx, ev); err != nil {
			return 0, err
		}
	}
	return len(people), st.SaveHQCommand(ctx, r.ID, strconv.Itoa(len(people)))
}
