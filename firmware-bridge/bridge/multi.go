package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Multi is several links seen as one: commands go to the link that owns the
// door or reader, and every link's signals come out of Run.
type Multi struct {
	links    []Link
	byDoor   map[string]Link
	byReader map[string]Link
}

var _ Link = (*Multi)(nil)

// NewMulti returns an empty Multi.
func NewMulti() *Multi { return &Multi{byDoor: map[string]Link{}, byReader: map[string]Link{}} }

// Add routes doors and readers to link.
func (m *Multi) Add(link Link, doors, readers []string) {
	m.links = append(m.links, link)
	for _, d := range doors {
		m.byDoor[d] = link
	}
	for _, r := range readers {
		m.byReader[r] = link
	}
}

// Run runs every link until ctx ends or one fails.
func (m *Multi) Run(ctx context.Context, emit func(Signal)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(m.links))
	for i, l := range m.links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Run(ctx, emit); err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Unlock implements Link.
func (m *Multi) Unlock(door string, pulse time.Duration) error {
	l, ok := m.byDoor[door]
	if !ok {
		return fmt.Errorf("bridge: no link drives door %q", door)
	}
	return l.Unlock(door, pulse)
}

// Lock implements Link.
func (m *Multi) Lock(door string) error {
	l, ok := m.byDoor[door]
	if !ok {
		return fmt.Errorf("bridge: no link drives door %q", door)
	}
	return l.Lock(door)
}

// Feedback implements Link.
func (m *Multi) Feedback(reader, about string, granted bool, ledFor time.Duration) error {
	l, ok := m.byReader[reader]
	if !ok {
		return fmt.Errorf("bridge: no link drives reader %q", reader)
	}
	return l.Feedback(reader, about, granted, ledFor)
}
