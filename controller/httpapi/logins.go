package httpapi

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Login limits: a password guessed from the plant LAN must cost hours, not
// seconds. Failures are counted per name at an address and per address;
// past a few, each locks that pair or address out for twice as long as the
// last, up to loginMaxLock. A name is never locked as such, so nobody can
// lock the guard out from another machine. A quiet spell of loginWindow
// forgets them.
const (
	loginFreeFailures = 3
	loginMaxLock      = 15 * time.Minute
	loginWindow       = 15 * time.Minute
	// LoginAlarmAfter failures of one name or address raise an alarm.
	LoginAlarmAfter = 10
	// loginSweepAt is how many names and addresses are counted before the
	// stale ones are forgotten.
	loginSweepAt = 4096
)

type loginLimits struct {
	mu   sync.Mutex
	keys map[string]*loginAttempts
}

type loginAttempts struct {
	failures int
	last     time.Time
	until    time.Time // locked out until then
}

// lockedFor is how long key must still wait.
func (l *loginLimits) lockedFor(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if a := l.keys[k]; a != nil && now.Before(a.until) {
			wait = max(wait, a.until.Sub(now))
		}
	}
	return wait
}

// failed counts a failure against keys and returns the most failures any
// of them has now.
func (l *loginLimits) failed(now time.Time, keys ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[string]*loginAttempts{}
	}
	if len(l.keys) >= loginSweepAt {
		// Someone trying a new name each time must not grow this forever:
		// what no window or lock still needs is forgotten.
		for k, a := range l.keys {
			if now.Sub(a.last) > loginWindow && !now.Before(a.until) {
				delete(l.keys, k)
			}
		}
	}
	most := 0
	for _, k := range keys {
		a := l.keys[k]
		if a == nil || now.Sub(a.last) > loginWindow {
			a = &loginAttempts{}
			l.keys[k] = a
		}
		a.failures++
		a.last = now
		if over := a.failures - loginFreeFailures; over > 0 {
			a.until = now.Add(min(time.Second<<min(over-1, 20), loginMaxLock))
		}
		most = max(most, a.failures)
	}
	return most
}

// succeeded forgets a name's failures (the address keeps its own).
func (l *loginLimits) succeeded(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// clientAddr is the address a request came from (no proxy headers: the
// controller faces the plant LAN itself).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
