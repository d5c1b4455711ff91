package fleet

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/testtool"
)

// BenchmarkFleet is a plant of 200 door Pis, each its own MQTT client with
// its own enrolled keys running the door Pi's real code over the embedded
// broker, and 10,000 cardholders (each Pi holds the 500 of its room group
// and the plant manager's card, which opens all 200 doors):
//   - cold-start-s: from nothing running to every Pi holding its cards;
//   - revoke-max-ms: the manager's card disabled → the last of the 200 Pis
//     refuses it from its own cards (the worst of 5 revokes and 5 re-enables);
//   - change-bytes: what one card change moved through the broker, both ways;
//   - rss-MB: the whole process (the controller's fleet and the 200 Pis);
//   - idle-cpu-%: of one core, everything idle for 10 s.
func BenchmarkFleet(b *testing.B) {
	const pis, cards = 200, 10_000
	for b.Loop() {
		start := time.Now()
		p := startPlant(b, pis, cards)
		testtool.WaitFor(b, 2*time.Minute, "every door Pi holding its cards", func() bool { return p.inStep() })
		b.ReportMetric(time.Since(start).Seconds(), "cold-start-s")

		var worst time.Duration
		var bytes int64
		for round := range 10 {
			enabled := round%2 == 1
			want := map[bool]string{true: granted, false: denied}[enabled]
			recv0, sent0 := p.broker.Traffic()
			before := p.versions()
			at := time.Now()
			p.change(func(hs []Holder) { hs[0].Enabled = enabled })
			refused := make([]bool, pis)
			left := pis
			for left > 0 {
				for i, pi := range p.pis {
					if !refused[i] && pi.daemon.Decide(reader(i), card(0), at).Type == want {
						refused[i] = true
						left--
					}
				}
				if time.Since(at) > time.Minute {
					b.Fatalf("round %d: %d door Pis still decide the old way after a minute", round, left)
				}
			}
			worst = max(worst, time.Since(at))
			testtool.WaitFor(b, time.Minute, "every acknowledgement", func() bool {
				now := p.versions()
				for id, v := range now {
					if v == before[id] {
						return false
					}
				}
				return p.inStep()
			})
			recv1, sent1 := p.broker.Traffic()
			bytes = max(bytes, recv1-recv0+sent1-sent0)
		}
		b.ReportMetric(float64(worst.Milliseconds()), "revoke-max-ms")
		b.ReportMetric(float64(bytes), "change-bytes")

		runtime.GC()
		b.ReportMetric(float64(rss())/(1<<20), "rss-MB")
		var r0, r1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		idle := 10 * time.Second
		time.Sleep(idle) // measuring idleness: nothing to wait for but time
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := time.Duration(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano()) * time.Nanosecond
		b.ReportMetric(100*cpu.Seconds()/idle.Seconds(), "idle-cpu-%")
	}
}

// rss is the process's resident memory, from the kernel.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
