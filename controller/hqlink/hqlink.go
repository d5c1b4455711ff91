// Package hqlink is a plant's ear for head office: the countersignatures
// of its checkpoints, kept with the log, and head office's signed
// revocations, checked with head office's key, applied once and
// acknowledged. It listens on the head-office broker, or on the plant's
// own broker when a Mosquitto bridge carries head office's topics in.
package hqlink

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/hqcommand"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// Link is the plant's side of head office's commands.
type Link struct {
	Broker mqttlink.Broker
	Prefix string // the plant's topics, sekisho/<site>
	Site   string
	// Key is head office's: a revocation it did not sign is refused.
	Key ed25519.PublicKey
	// LogKey is the plant's own: its acknowledgements are signed with it.
	LogKey ed25519.PrivateKey
	// Cosign keeps head office's countersignature of a checkpoint.
	Cosign func(ctx context.Context, note []byte) error
	// Revoke disables everyone with the employee number, logged as head
	// office's user did it; it says how many.
	Revoke func(ctx context.Context, r hqcommand.Revocation) (int, error)
	// Applied says whether the command was applied before, and to how many.
	Applied func(ctx context.Context, id string) (people int, done bool, err error)
	Log     *slog.Logger
}

type heard struct {
	topic   string
	payload []byte
}

// Run listens until ctx ends. Messages are handled in order on one
// goroutine of its own, never on the MQTT client's.
func (l *Link) Run(ctx context.Context) error {
	opts, err := l.Broker.ClientOptions("sekisho-"+l.Site+"-hq-"+rand.Text()[:8], mqttlink.RetryLog)
	if err != nil {
		return err
	}
	in := make(chan heard, 256)
	revocations := l.Prefix + "/hq/revocations/+"
	cosignature := mqttlink.Topics{Prefix: l.Prefix}.Cosignature()
	opts.SetOrderMatters(true).SetOnConnectHandler(func(c paho.Client) {
		c.SubscribeMultiple(map[string]byte{revocations: 1, cosignature: 1}, func(_ paho.Client, m paho.Message) {
			select {
			case in <- heard{m.Topic(), m.Payload()}:
			default:
				// A flood: what is retained comes again on the next connect.
				l.Log.Warn("head office's message dropped: too many at once", "topic", m.Topic())
			}
		})
	})
	client := paho.NewClient(opts)
	client.Connect()
	defer client.Disconnect(500)
	for {
		select {
		case <-ctx.Done():
			return nil
		case h := <-in:
			if h.topic == cosignature {
				if err := l.Cosign(ctx, h.payload); err != nil {
					l.Log.Warn("head office's countersignature not kept", "err", err)
				}
				continue
			}
			if ack, ok := l.revoke(ctx, h.payload); ok {
				if b, err := hqcommand.SignAck(ack, l.LogKey); err == nil {
					client.Publish(hqcommand.AckTopic(l.Prefix, ack.ID), 1, true, b)
				}
			}
		}
	}
}

// revoke applies a revocation once; ok says whether to acknowledge it.
func (l *Link) revoke(ctx context.Context, payload []byte) (hqcommand.Ack, bool) {
	r, err := hqcommand.Open(payload, l.Key)
	if err != nil {
		l.Log.Warn("a revocation in head office's name refused", "err", err)
		return hqcommand.Ack{}, false
	}
	ack := hqcommand.Ack{ID: r.ID, Site: l.Site, At: time.Now().UTC()}
	if n, done, err := l.Applied(ctx, r.ID); err == nil && done {
		// Applied before (a retained command heard again): said again.
		ack.Applied = n
		return ack, true
	}
	n, err := l.Revoke(ctx, r)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return ack, false
		}
		l.Log.Error("head office's revocation not applied; asked again on the next connect", "id", r.ID, "err", err)
		return ack, false
	}
	ack.Applied = n
	l.Log.Info("head office's revocation applied", "id", r.ID, "employee_number", r.EmployeeNumber, "by", r.By, "people", n)
	return ack, true
}
