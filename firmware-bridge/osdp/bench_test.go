package osdp

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// pacedPort holds each write for the time its bytes take on a line at baud
// (10 bits a byte, 8N1): a pseudo-terminal has no speed of its own.
type pacedPort struct {
	*os.File
	baud int
}

func (p pacedPort) Write(b []byte) (int, error) {
	// The wait is the line itself, what the benchmark measures against,
	// not a wait for something to happen.
	onWire := time.NewTimer(time.Duration(len(b)*10) * time.Second / time.Duration(p.baud))
	<-onWire.C
	return p.File.Write(b)
}

// BenchmarkPollCycle is four keyed readers on one bus at 115200 baud, the
// wire's time included: how long each reader waits between two polls.
// The bar is 200 ms at the worst, with three CPU hogs beside it.
func BenchmarkPollCycle(b *testing.B) {
	panel, device, err := OpenPseudoLine()
	if err != nil {
		b.Fatal(err)
	}
	const baud = 115200
	var mu sync.Mutex
	last := map[byte]time.Time{}
	var gaps []time.Duration
	var devs []*Device
	var readers []ReaderConfig
	for a := byte(1); a <= 4; a++ {
		d := &Device{Address: a, Key: key(a)}
		d.Polled = func() {
			now := time.Now()
			mu.Lock()
			if t, ok := last[a]; ok {
				gaps = append(gaps, now.Sub(t))
			}
			last[a] = now
			mu.Unlock()
		}
		devs = append(devs, d)
		readers = append(readers, ReaderConfig{Address: a, Key: key(a)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		ServeDevices(ctx, pacedPort{device, baud}, devs...)
	}()
	online := make(chan struct{}, 4)
	bus := &Bus{Port: pacedPort{panel, baud}, Readers: readers, Events: func(e Event) {
		if e.Kind == EventOnline {
			online <- struct{}{}
		}
	}}
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx) }()
	for range 4 {
		<-online
	}
	mu.Lock()
	gaps = gaps[:0]
	mu.Unlock()
	// The bus is watched for b.N spans of 5 ms of line time.
	tick := time.NewTicker(5 * time.Millisecond)
	for b.Loop() {
		<-tick.C
	}
	tick.Stop()
	cancel()
	<-done
	device.Close()
	<-served
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) == 0 {
		b.Fatal("no polls")
	}
	slices.Sort(gaps)
	b.ReportMetric(float64(gaps[len(gaps)/2].Microseconds())/1000, "gap-p50-ms")
	b.ReportMetric(float64(gaps[len(gaps)*99/100].Microseconds())/1000, "gap-p99-ms")
	b.ReportMetric(float64(gaps[len(gaps)-1].Microseconds())/1000, "gap-max-ms")
}
