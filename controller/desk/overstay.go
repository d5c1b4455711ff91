package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho/sekisho/controller/alarms"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Overstays raises an alarm for each visitor still checked in after the
// day's overstay time, or from an earlier day: their badge has not come
// back to the desk. It checks every so often until ctx ends.
func (d *Desk) Overstays(ctx context.Context, a *alarms.Alarms, every time.Duration) error {
	pool := d.config.VisitorCards
	if pool == nil {
		return nil
	}
	t := time.NewTicker(every)
	defer t.Stop()
	raised := map[string]bool{}
	for {
		now := d.clock.Now()
		today := d.clock.Day(now)
		late := now.Hour()*60+now.Minute() >= pool.Overstay()
		visits, err := d.store.SearchVisits(ctx, sekisho.VisitQuery{To: today, Status: sekisho.VisitCheckedIn})
		if err != nil && ctx.Err() == nil {
			d.log.Warn("overstay check", "err", err)
		}
		for _, v := range visits {
			if raised[v.ID] || (v.Day == today && !late) {
				continue
			}
			raised[v.ID] = true
			badge := ""
			if v.Card != nil {
				badge = fmt.Sprintf(", badge %d not returned", *v.Card)
			}
			a.Raise(sekisho.Alarm{Kind: sekisho.AlarmOverstay, Severity: sekisho.Warning, PersonID: v.PersonID,
				Detail: fmt.Sprintf("%s (%s) still checked in after %s on %s%s; host %s", v.Name, v.Company, pool.OverstayAt, v.Day, badge, v.HostName)})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
