package site

import (
	"sync/atomic"
	"time"

	"github.com/sekisho/sekisho/controller/alarms"
	"github.com/sekisho/sekisho/controller/event"
)

// afterLog is what follows an append: the meters count it, the cameras
// take a still or weigh a grant, and a log that cannot be written raises
// the storage alarm. It runs on the journal's writer.
type afterLog struct {
	meters  *meters
	storage *alarms.Storage
	cams    atomic.Pointer[cameras] // set once the cameras run
}

func (a *afterLog) Logged(ev *event.Event) {
	a.meters.logged(ev)
	if c := a.cams.Load(); c != nil {
		c.logged(ev)
	}
}

func (a *afterLog) NotLogged(ev *event.Event, err error) {
	a.meters.appendFailures.Inc()
	a.storage.NotLogged(ev, err)
}

func (a *afterLog) Failing(reason string, err error) {
	a.meters.appendFailures.Inc()
	a.storage.Failing(reason, err)
}

func (a *afterLog) Resumed(took time.Duration) { a.storage.Resumed(took) }
