package httpapi

import (
	"fmt"
	"testing"
	"time"
)

// A guesser who tries a new name each time does not grow the counts
// forever: stale ones are forgotten, a name still locked is kept.
func TestLoginCountsForgetWhatIsStale(t *testing.T) {
	var l loginLimits
	start := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return start.Add(time.Duration(i) * time.Second) } // one new name a second
	n := 3 * loginSweepAt
	for i := range n {
		if i == n-10 {
			for range 5 {
				l.failed(at(i), "user:guessed") // locked for 2 s from here
			}
		}
		l.failed(at(i), fmt.Sprintf("user:n%d", i))
	}
	if limit := loginSweepAt + int(loginWindow/time.Second) + 2; len(l.keys) > limit {
		t.Fatalf("%d names counted, want at most %d", len(l.keys), limit)
	}
	if l.lockedFor(at(n-9), "user:guessed") == 0 {
		t.Fatal("a name still locked was forgotten")
	}
}
