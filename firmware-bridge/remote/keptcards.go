package remote

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// A door Pi keeps its cards one row a card, and the doors, version and seq
// as a header, each with a MAC under a key only its enrolment holds: a row
// written by anyone else, one left from older cards, or one removed, and
// the cards no longer add up to the header's version, which is refused.

type keptHeader struct {
	Header  *Snapshot `json:"header"` // no cards
	Seq     int64     `json:"seq"`
	Version string    `json:"version"`
	MAC     []byte    `json:"mac"`
}

func (d *Daemon) macKey() []byte {
	key := sha256.Sum256(append([]byte("sekisho-kept-cards-v2\x00"), d.Enrolment.BoxPrivate...))
	return key[:]
}

func mac(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(strconv.Itoa(len(p))))
		m.Write([]byte{0})
		m.Write(p)
	}
	return m.Sum(nil)
}

func rowKey(k CardKey) string {
	return k.Format + "/" + strconv.FormatUint(k.Facility, 10) + "/" + strconv.FormatUint(k.Number, 10) + "/" + k.RawHex
}

// writeCards keeps c, given what was kept last (nil: nothing, or unknown):
// the rows that changed, in one transaction with the header.
func (d *Daemon) writeCards(ctx context.Context, c, kept *Cards) error {
	key := d.macKey()
	h := *c.Header
	h.Cards = nil
	hb, err := json.Marshal(&h)
	if err != nil {
		return err
	}
	header := keptHeader{Header: &h, Seq: c.Seq, Version: c.Version()}
	header.MAC = mac(key, hb, []byte(strconv.FormatInt(c.Seq, 10)), []byte(header.Version))
	headerJSON, _ := json.Marshal(header)
	return d.outbox.inTx(ctx, func(tx *sql.Tx) error {
		if kept == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM kept_cards`); err != nil {
				return err
			}
		} else {
			for k := range kept.Index {
				if _, ok := c.Index[k]; !ok {
					if _, err := tx.ExecContext(ctx, `DELETE FROM kept_cards WHERE key = ?`, rowKey(k)); err != nil {
						return err
					}
				}
			}
		}
		for k, card := range c.Index {
			if kept != nil && kept.Index[k] == card {
				continue // the same card, unchanged since it was kept
			}
			b, err := json.Marshal(card)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO kept_cards (key, body, mac) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET body = excluded.body, mac = excluded.mac`, rowKey(k), b, mac(key, b)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO kept (key, value) VALUES ('cards', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, string(headerJSON))
		return err
	})
}

// readKept loads the kept cards, checked.
func (d *Daemon) readKept(ctx context.Context) (*Cards, error) {
	raw, err := d.outbox.Kept(ctx, "cards")
	if err != nil || raw == "" {
		return nil, err
	}
	var h keptHeader
	if err := json.Unmarshal([]byte(raw), &h); err != nil || h.Header == nil {
		return nil, fmt.Errorf("kept cards unreadable: %v", err)
	}
	key := d.macKey()
	hb, _ := json.Marshal(h.Header)
	if !hmac.Equal(h.MAC, mac(key, hb, []byte(strconv.FormatInt(h.Seq, 10)), []byte(h.Version))) {
		return nil, errors.New("kept cards were not written by this door Pi")
	}
	s := *h.Header
	s.Version = h.Version
	err = d.outbox.eachKeptCard(ctx, func(body, m []byte) error {
		if !hmac.Equal(m, mac(key, body)) {
			return errors.New("a kept card was not written by this door Pi")
		}
		var c SnapshotCard
		if err := json.Unmarshal(body, &c); err != nil {
			return err
		}
		s.Cards = append(s.Cards, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return FromSnapshot(&s, h.Seq)
}

// setAside moves kept cards that cannot run this board out of the way.
func (d *Daemon) setAside(ctx context.Context, why error) {
	raw, _ := d.outbox.Kept(ctx, "cards")
	_ = d.outbox.Keep(ctx, "cards.set_aside", raw)
	_ = d.outbox.Keep(ctx, "cards", "")
	d.mu.Lock()
	d.cards = nil
	d.mu.Unlock()
	d.Log.Error("kept cards set aside: they do not fit this board; waiting for the controller's", "err", why)
	d.report(Refused{Kind: "kept_cards", Reason: "no_fit", Detail: why.Error(), Count: 1})
}
