package site_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/testtool"
)

// Guessing a password from the LAN: after a few failures each try waits
// twice as long, the right password included, every try is an auth event
// with the address, and ten raise an alarm. The clock is the site's, moved
// by the test.
func TestLoginBackoffAndAlarm(t *testing.T) {
	t.Parallel()
	ts, ahead := startSiteOnClock(t)
	if err := ts.Store.CreateUser(context.Background(), "kato", sekisho.RoleGuard, nil, "right-password-1"); err != nil {
		t.Fatal(err)
	}
	login := func(password string) string {
		res, err := noRedirect.PostForm(ts.base+"/login", url.Values{"name": {"kato"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header.Get("Location")
	}
	for i := range 4 {
		if got := login("guess"); got != "/login?failed=1" {
			t.Fatalf("guess %d: %s", i+1, got)
		}
	}
	// The fourth failure locked this name at this address (and the address)
	// for a second: even the right password waits here.
	if got := login("right-password-1"); !strings.HasPrefix(got, "/login?locked=") {
		t.Fatalf("right password while locked: %s", got)
	}
	// The real guard at another machine is not locked out by someone else's
	// guessing: the name is never locked as such.
	guardHouse := fromAddress(t, "127.0.0.2")
	res, err := guardHouse.PostForm(ts.base+"/login", url.Values{"name": {"kato"}, "password": {"right-password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Location"); got != "/" {
		t.Fatalf("the guard at another address while the name is being guessed: %s", got)
	}
	ahead.Store(int64(2 * time.Second))
	if got := login("right-password-1"); got != "/" {
		t.Fatalf("right password after the wait: %s", got)
	}
	// An hour on, someone keeps guessing, each try just after the last
	// lock has ended, inside the 15 minutes that keep counting: ten raise
	// an alarm.
	ahead.Store(int64(time.Hour))
	for range 10 {
		if got := login("guess"); got != "/login?failed=1" {
			t.Fatalf("a guess after the lock ended: %s", got)
		}
		ahead.Add(int64(14 * time.Minute))
	}
	var alarms []sekisho.Alarm
	waitFor(t, "the failed-logins alarm", func() bool {
		ts.call("GET", "/api/alarms", nil, &alarms)
		for _, a := range alarms {
			if a.Kind == "login_failures" {
				return true
			}
		}
		return false
	})
	var evs []event.Event
	kinds := map[string]int{}
	if !testtool.Until(30*time.Second, func() bool {
		evs = nil
		ts.call("GET", "/api/events?type=auth.&limit=100", nil, &evs)
		kinds = map[string]int{}
		for _, ev := range evs {
			if ev.Detail["addr"] != "127.0.0.1" || ev.Detail["user"] != "kato" {
				continue
			}
			kinds[ev.Type+" "+ev.Detail["reason"]]++
		}
		return kinds["auth.failed bad_password"] >= 14 && kinds["auth.failed locked_out"] >= 1 && kinds["auth.login "] == 1
	}) {
		var all []string
		for _, ev := range evs {
			all = append(all, fmt.Sprintf("%d %s %s %v", ev.Seq, ev.Time.Format(time.RFC3339), ev.Type, ev.Detail))
		}
		t.Fatalf("auth events with the address, by kind: %v; of these:\n%s", kinds, strings.Join(all, "\n"))
	}
}

// fromAddress is a client whose connections come from addr (a loopback
// address other than 127.0.0.1 stands for another machine on the LAN).
func fromAddress(t *testing.T, addr string) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: dialer.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// startSiteAhead starts a site whose clock the test moves forward.
func startSiteAhead(t *testing.T) (*testSite, *atomic.Int64) {
	t.Helper()
	ahead := new(atomic.Int64)
	ts := startSiteWith(t, func(o *site.Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	})
	return ts, ahead
}

// startSiteOnClock starts a site whose clock stands still but for the
// test's moves: a slow machine's seconds between two logins do not count.
func startSiteOnClock(t *testing.T, tweaks ...func(*config.Config)) (*testSite, *atomic.Int64) {
	t.Helper()
	ahead, start := new(atomic.Int64), time.Now()
	ts := startSiteWith(t, func(o *site.Options) {
		o.Now = func() time.Time { return start.Add(time.Duration(ahead.Load())) }
	}, tweaks...)
	return ts, ahead
}
