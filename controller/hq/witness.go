package hq

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/logtree"
	"github.com/sekisho/sekisho/firmware-bridge/mqttlink"
)

// checkpoint weighs a site's signed checkpoint: its chain checkpoint held
// to the events, then its tree checkpoint witnessed.
func (o *Office) checkpoint(ctx context.Context, f *feed, payload []byte) {
	cp, err := ParseCheckpoint(payload)
	if err == nil && cp.Site != f.site.ID {
		err = fmt.Errorf("a checkpoint of site %q on %s's topic: %w", cp.Site, f.site.ID, ErrBadMessage)
	}
	if err == nil {
		if err = cp.Check(f.site.PublicKey()); err != nil {
			err = fmt.Errorf("%w: %w", err, ErrNotSigned)
		}
	}
	if err != nil {
		o.raise(ctx, f.site.ID, ledger.AlarmBadSig, "a checkpoint in the site's name refused: "+err.Error())
		return
	}
	o.confirm(ctx, f, cp.Seq, cp.Hash, cp.Time, payload)
	if cp.Note != "" {
		o.witness(ctx, f, []byte(cp.Note))
	}
}

// confirm keeps a checkpoint (raw; nil for one kept before) and holds it
// to the chain.
func (o *Office) confirm(ctx context.Context, f *feed, seq int64, hash string, at time.Time, raw []byte) {
	v, err := o.ledger.Confirm(ctx, f.site.ID, seq, hash, at, raw)
	if err != nil {
		if ctx.Err() == nil {
			o.Log.Error("head office: checkpoint not weighed", "site", f.site.ID, "seq", seq, "err", err)
		}
		return
	}
	switch v {
	case ledger.Forked:
		o.raise(ctx, f.site.ID, ledger.AlarmFork, fmt.Sprintf("the site signed seq %d ending in %.16s…, another history than the one it signed before: its log was cut or rewritten", seq, hash))
	case ledger.Replaced:
		o.raise(ctx, f.site.ID, ledger.AlarmRefused, fmt.Sprintf("events held for the site were contradicted by its checkpoint at seq %d and refused", seq))
	}
}

// witness countersigns the site's tree checkpoint if the events held make
// its root, and sends the countersigned note back to the site.
func (o *Office) witness(ctx context.Context, f *feed, text []byte) {
	n, err := note.Open(text, note.VerifierList(f.site.Verifier()))
	if err != nil {
		o.raise(ctx, f.site.ID, ledger.AlarmBadSig, "a tree checkpoint in the site's name refused: "+err.Error())
		return
	}
	c, err := logtree.ParseCheckpoint(n.Text)
	if err == nil && c.Origin != f.site.Verifier().Name() {
		err = fmt.Errorf("a checkpoint of the log %q, not %q", c.Origin, f.site.Verifier().Name())
	}
	if err != nil {
		o.raise(ctx, f.site.ID, ledger.AlarmBadSig, "a tree checkpoint that cannot be read: "+err.Error())
		return
	}
	sign := func() (string, error) {
		// Only the site's own signature is countersigned beside.
		mine := &note.Note{Text: n.Text, Sigs: n.Sigs}
		b, err := note.Sign(mine, o.signer)
		return string(b), err
	}
	v, signed, err := o.ledger.Witness(ctx, f.site.ID, ledger.Cosigning{Size: c.Size, Root: c.Root, Sign: sign})
	if err != nil {
		o.Log.Error("head office: checkpoint not witnessed", "site", f.site.ID, "err", err)
		return
	}
	switch v {
	case ledger.Waiting:
		f.note = text
	case ledger.Forked:
		o.raise(ctx, f.site.ID, ledger.AlarmFork, fmt.Sprintf("the site's tree of %d events has another root than the events head office holds: not countersigned", c.Size))
	}
	if signed != "" {
		t := mqttlink.Topics{Prefix: f.site.Prefix}
		o.client.Publish(t.Cosignature(), 1, true, signed)
		o.Log.Info("checkpoint countersigned", "site", f.site.ID, "size", c.Size)
	}
}

// watch looks at a site's gap and silence, and holds a checkpoint still
// waiting to the events again.
func (o *Office) watch(ctx context.Context, f *feed) {
	site := f.site.ID
	o.retry(ctx, f)
	head, wanted, since, err := o.ledger.Gap(ctx, site)
	if err != nil {
		return
	}
	if wanted > 0 && time.Since(since) > o.Config.GapWait/2 && f.site.API != "" {
		if err := o.backfill(ctx, f, head, wanted); err != nil {
			o.Log.Warn("head office: gap not filled from the site's API", "site", site, "after", head, "err", err)
		}
		head, wanted, since, err = o.ledger.Gap(ctx, site)
		if err != nil {
			return
		}
	}
	if wanted > 0 && time.Since(since) > o.Config.GapWait {
		o.raise(ctx, site, ledger.AlarmGap, fmt.Sprintf("events %d to %d missing since %s", head+1, wanted, since.UTC().Format(time.RFC3339)))
	} else if wanted == 0 {
		o.clear(ctx, site, ledger.AlarmGap)
	}
	st, err := o.ledger.SiteStatus(ctx, site)
	if err == nil && st.LastHeard != nil && time.Since(*st.LastHeard) > o.Config.SilentAfter {
		o.raise(ctx, site, ledger.AlarmSilent, "nothing heard since "+st.LastHeard.UTC().Format(time.RFC3339))
	}
}

// backfill asks the site's API for the events after head, a page at a
// time, and offers them like the ones heard.
func (o *Office) backfill(ctx context.Context, f *feed, head, wanted int64) error {
	const page = 1000
	for head < wanted {
		q := url.Values{"after_seq": {strconv.FormatInt(head, 10)}, "before_seq": {strconv.FormatInt(min(wanted+1, head+page+1), 10)},
			"limit": {strconv.Itoa(page)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.site.API+"/api/events?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+f.site.Token)
		res, err := apiClient.Do(req)
		if err != nil {
			return err
		}
		var evs []event.Event
		err = json.NewDecoder(http.MaxBytesReader(nil, res.Body, 64<<20)).Decode(&evs)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("the site's API answered %s", res.Status)
		}
		if err != nil {
			return fmt.Errorf("the site's API: %w", err)
		}
		var ins []ledger.Incoming
		for _, ev := range evs {
			if in, err := FromAPI(ev); err == nil {
				ins = append(ins, in)
			}
		}
		if len(ins) == 0 {
			return fmt.Errorf("the site's API has no events after %d", head)
		}
		res2, err := o.ledger.Offer(ctx, f.site.ID, ins)
		if err != nil {
			return err
		}
		o.Log.Info("gap filled from the site's API", "site", f.site.ID, "after", head, "events", len(ins), "head", res2.Head)
		if res2.Head <= head {
			return fmt.Errorf("the site's events after %d do not extend the chain held", head)
		}
		head = res2.Head
		o.retry(ctx, f)
	}
	return nil
}

var apiClient = &http.Client{Timeout: 30 * time.Second}
