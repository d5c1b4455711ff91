package hq

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/hqcommand"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// ErrNoEmployee marks a revocation without an employee number.
var ErrNoEmployee = errors.New("an employee number is needed")

// Revoke disables, at every plant, whoever has the employee number: the
// command is kept, signed with head office's key and sent to each plant,
// retained so that a plant offline now applies it when it is back.
func (o *Office) Revoke(ctx context.Context, employeeNumber, by, reason string) (hqcommand.Revocation, error) {
	return revoke(ctx, o.ledger, o.key, o.Config.Sites, o.publish, employeeNumber, by, reason)
}

func revoke(ctx context.Context, l *ledger.Ledger, key ed25519.PrivateKey, sites []Site, publish func(topic string, payload []byte) error,
	employeeNumber, by, reason string) (hqcommand.Revocation, error) {
	employeeNumber = strings.TrimSpace(employeeNumber)
	if employeeNumber == "" {
		return hqcommand.Revocation{}, ErrNoEmployee
	}
	r := hqcommand.Revocation{ID: "rv-" + uuid.NewString()[:13], EmployeeNumber: employeeNumber, By: by, Reason: reason,
		IssuedAt: time.Now().UTC().Truncate(time.Second)}
	msg, err := hqcommand.Sign(r, key)
	if err != nil {
		return hqcommand.Revocation{}, err
	}
	if err := l.AddRevocation(ctx, r, msg); err != nil {
		return hqcommand.Revocation{}, err // not kept: nothing was given
	}
	var errs []error
	for _, s := range sites {
		if err := publish(hqcommand.RevocationTopic(s.Prefix, r.ID), msg); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.ID, err))
		}
	}
	// Kept either way: what did not go out now goes on the next connect.
	return r, errors.Join(errs...)
}

// publish sends a retained command and waits for the broker to take it.
func (o *Office) publish(topic string, payload []byte) error {
	t := o.client.Publish(topic, 1, true, payload)
	if !t.WaitTimeout(10 * time.Second) {
		return errors.New("the head-office broker did not take it")
	}
	return t.Error()
}

// resend sends again each revocation to the plants that have not
// acknowledged it.
func (o *Office) resend(ctx context.Context) {
	ids := make([]string, len(o.Config.Sites))
	for i, s := range o.Config.Sites {
		ids[i] = s.ID
	}
	rs, err := o.ledger.Revocations(ctx, ids)
	if err != nil {
		o.Log.Warn("head office: revocations not sent again", "err", err)
		return
	}
	for _, r := range rs {
		for _, s := range o.Config.Sites {
			if _, done := r.Applied[s.ID]; !done {
				o.client.Publish(hqcommand.RevocationTopic(s.Prefix, r.ID), 1, true, r.Message)
			}
		}
	}
}

// acknowledged keeps a plant's acknowledgement of a revocation.
func (o *Office) acknowledged(ctx context.Context, f *feed, payload []byte) {
	a, err := hqcommand.OpenAck(payload, f.site.PublicKey())
	if err == nil && a.Site != f.site.ID {
		err = fmt.Errorf("an acknowledgement of site %q on %s's topic", a.Site, f.site.ID)
	}
	if err != nil {
		o.Log.Warn("head office: an acknowledgement refused", "site", f.site.ID, "err", err)
		return
	}
	if err := o.ledger.Acknowledge(ctx, a); err != nil {
		o.Log.Error("head office: acknowledgement not kept", "site", f.site.ID, "err", err)
		return
	}
	o.Log.Info("revocation applied at a plant", "site", f.site.ID, "id", a.ID, "people", a.Applied)
}

// RevokeOnce is Revoke from the command line: it keeps the revocation in
// head office's database and sends it through its own connection to the
// broker, beside a running head office.
func RevokeOnce(ctx context.Context, cfg *Config, employeeNumber, by, reason string) (hqcommand.Revocation, error) {
	skey, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		return hqcommand.Revocation{}, fmt.Errorf("hq: signing key: %w", err)
	}
	key, _, err := hqcommand.PrivateKey(string(skey))
	if err != nil {
		return hqcommand.Revocation{}, err
	}
	l, err := ledger.Open(ctx, cfg.Postgres)
	if err != nil {
		return hqcommand.Revocation{}, err
	}
	defer l.Close()
	opts, err := cfg.Broker.Link().ClientOptions("sekisho-hq-revoke-"+uuid.NewString()[:8], mqttlink.RetryLog)
	if err != nil {
		return hqcommand.Revocation{}, err
	}
	client := paho.NewClient(opts.SetConnectRetry(false))
	if t := client.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return hqcommand.Revocation{}, fmt.Errorf("hq: the head-office broker %s: %v", cfg.Broker.URL, t.Error())
	}
	defer client.Disconnect(500)
	publish := func(topic string, payload []byte) error {
		t := client.Publish(topic, 1, true, payload)
		if !t.WaitTimeout(10 * time.Second) {
			return errors.New("the head-office broker did not take it")
		}
		return t.Error()
	}
	return revoke(ctx, l, key, cfg.Sites, publish, employeeNumber, by, reason)
}
