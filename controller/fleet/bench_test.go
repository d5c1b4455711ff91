package fleet

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/testtool"
)

// BenchmarkFleet is a plant of 200 door Pis, each its own MQTT client with
// its own enrolled keys running the door Pi's real code, in a process of
// their own, over the embedded broker, and 10,000 cardholders (each Pi
// holds the 500 of its room group and the plant manager's card, which
// opens all 200 doors):
//   - cold-start-s: from nothing running to every Pi having acknowledged
//     its cards (kept on its disk);
//   - revoke-max-ms: the manager's card disabled → the last of the 200 Pis
//     acknowledging the cards that refuse it (the worst of 5 revokes and 5
//     re-enables); a Pi refuses from memory a little before it says so;
//   - change-bytes: what one card change moved through the broker, both
//     ways, acknowledgements included;
//   - rss-MB, idle-cpu-%: the controller's side (the broker and the fleet),
//     the door Pis being in their own process.
func BenchmarkFleet(b *testing.B) {
	const pis, cards = 200, 10_000
	for b.Loop() {
		start := time.Now()
		p := startFleet(b, pis, cards)
		p.startPisProcess(b)
		testtool.WaitFor(b, 2*time.Minute, "every door Pi holding its cards", p.acked)
		b.ReportMetric(time.Since(start).Seconds(), "cold-start-s")

		var worst time.Duration
		var bytes int64
		for round := range 10 {
			enabled := round%2 == 1
			recv0, sent0 := p.broker.Traffic()
			before := p.versions()
			at := time.Now()
			p.change(func(hs []Holder) { hs[0].Enabled = enabled })
			testtool.WaitFor(b, time.Minute, "every door Pi acknowledging the change", func() bool {
				for id, v := range p.versions() {
					if v == before[id] {
						return false
					}
				}
				return p.acked()
			})
			worst = max(worst, time.Since(at))
			recv1, sent1 := p.broker.Traffic()
			bytes = max(bytes, recv1-recv0+sent1-sent0)
		}
		b.ReportMetric(float64(worst.Milliseconds()), "revoke-max-ms")
		b.ReportMetric(float64(bytes), "change-bytes")

		runtime.GC()
		b.ReportMetric(float64(testtool.ResidentBytes())/(1<<20), "rss-MB")
		var r0, r1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		idle := 10 * time.Second
		<-time.After(idle) // measuring idleness: there is no condition to wait for, only time
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := time.Duration(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano()) * time.Nanosecond
		b.ReportMetric(100*cpu.Seconds()/idle.Seconds(), "idle-cpu-%")
	}
}

// acked says whether every door Pi has acknowledged the cards it should hold.
func (p *plant) acked() bool {
	for _, st := range p.fleet.States() {
		if !st.InStep {
			return false
		}
	}
	return true
}
