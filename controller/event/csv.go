package event

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sekisho/sekisho/controller/sheet"
)

// CSVHeader names the columns of an event log export.
var CSVHeader = []string{"seq", "time", "type", "door", "side", "zone_from", "zone_to", "person_id", "person", "kind", "company",
	"visit", "card", "reason", "decided_by", "actor", "camera", "snapshot_sha256", "still", "detail", "hash"}

// CSV writes events as rows a spreadsheet opens; times in the site's zone.
type CSV struct {
	w   *sheet.Writer // a name typed as =HYPERLINK(…) stays text in Excel
	loc *time.Location
}

// NewCSV starts an export on w with its header row.
func NewCSV(w io.Writer, loc *time.Location) (*CSV, error) {
	c := &CSV{w: sheet.NewWriter(w), loc: loc}
	return c, c.w.Write(CSVHeader)
}

// RenderCSV is evs as CSV rows without the header, for an export that
// renders its pages on several cores and writes them in order.
func RenderCSV(evs []Event, loc *time.Location) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(evs) * 200)
	c := &CSV{w: sheet.NewWriter(&b), loc: loc}
	for i := range evs {
		if err := c.Write(&evs[i]); err != nil {
			return nil, err
		}
	}
	if err := c.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write adds one event.
func (c *CSV) Write(e *Event) error {
	var pid, name, kind, company, card, cam, sha, still, detail string
	if p := e.Person; p != nil {
		pid, name, kind, company = p.ID, p.Name, p.Kind, p.Company
	}
	if e.Credential != nil {
		card = e.Label()
		if e.Person != nil {
			card = fmt.Sprintf("%d:%d", e.Credential.Facility, e.Credential.Number)
		}
	}
	if e.Camera != nil {
		cam, sha = e.Camera.ID, e.Camera.SnapshotSHA256
	}
	for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
		v := e.Detail[k]
		if k == "file" {
			still = v
			continue
		}
		if detail != "" {
			detail += "; "
		}
		detail += k + "=" + v
	}
	return c.w.Write([]string{strconv.FormatInt(e.Seq, 10), e.Time.In(c.loc).Format(time.RFC3339), e.Type, e.Door, e.Side, e.ZoneFrom, e.ZoneTo,
		pid, name, kind, company, e.Visit, card, e.Reason, e.DecidedBy, e.Actor, cam, sha, still, detail, e.Hash})
}

// Flush sends what is buffered and reports a write error.
func (c *CSV) Flush() error {
	return c.w.Flush()
}
